"""Ingestion jobs: a large upload is stored as a job and processed off the request, in
transactions of ``CHUNK_ROWS`` rows each, so that no request waits for it (on SQLite the write
lock is held for one chunk at a time, not for the whole file). Progress is committed with each
chunk; a row is numbered in the upload (from 1), so quarantine entries and a re-run of the
job are the same as for a synchronous batch. A job that fails part-way keeps the chunks it
committed (natural keys make running the file again harmless) and says why.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lvyue.store.audit import audit
from lvyue.store.db import SessionFactory
from lvyue.store.ingest import BatchResult, Scope, ingest_rows
from lvyue.store.retry import retrying
from lvyue.store.tables import IngestJob, utcnow

CHUNK_ROWS = 1_000
SQLITE_PAUSE_S = 0.15
MAX_ERRORS_KEPT = 100
log = logging.getLogger(__name__)


def create_job(
    session: Session, source: str, rows: list[dict[str, Any]], scope: Scope, actor: str
) -> IngestJob:
    """A queued job for ``rows`` (not committed here)."""
    job = IngestJob(
        account_id=actor,
        merchant_id=scope.merchant_id,
        carrier=scope.carrier,
        may_ship=scope.may_ship,
        source=source,
        status="queued",
        rows=rows,
        rows_total=len(rows),
        rows_done=0,
    )
    session.add(job)
    session.flush()
    return job


def _claim(factory: SessionFactory, job_id: int) -> bool:
    """Mark the job running; False if another runner has it (or it is finished)."""
    with factory() as session:
        claimed = session.execute(
            update(IngestJob)
            .where(IngestJob.job_id == job_id, IngestJob.status == "queued")
            .values(status="running", started_at=utcnow())
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return bool(claimed == 1)


def run_job(factory: SessionFactory, job_id: int) -> None:
    """Process a queued job chunk by chunk; never raises (the job records the failure)."""
    if not _claim(factory, job_id):
        return
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        rows, source, actor = job.rows, job.source, job.account_id
        # SQLite's busy handler polls (up to 100 ms apart): without a gap a waiting writer
        # could miss every moment the lock is free. PostgreSQL locks rows, not the database.
        pause = SQLITE_PAUSE_S if session.get_bind().dialect.name == "sqlite" else 0.0
    total = BatchResult()
    try:
        for start in range(0, len(rows), CHUNK_ROWS):
            part = _run_chunk(factory, job_id, source, rows[start : start + CHUNK_ROWS], start)
            _add(total, part)
            time.sleep(pause)  # let writers waiting for SQLite's lock in before the next chunk
        _finish(factory, job_id, "done", _result(total), None, actor)
    except Exception as error:  # the job says what went wrong; the runner goes on
        log.exception("ingest job %s failed", job_id)
        _finish(
            factory, job_id, "failed", _result(total), f"{type(error).__name__}: {error}", actor
        )


def _run_chunk(
    factory: SessionFactory, job_id: int, source: str, chunk: list[dict[str, Any]], start: int
) -> BatchResult:
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        scope = Scope(merchant_id=job.merchant_id, carrier=job.carrier, may_ship=job.may_ship)
        actor = job.account_id

        def transaction() -> BatchResult:
            part = ingest_rows(session, source, chunk, scope, actor, first_line=start + 1)
            session.execute(
                update(IngestJob)
                .where(IngestJob.job_id == job_id)
                .values(rows_done=start + len(chunk))
            )
            session.commit()
            return part

        return retrying(session, transaction)


def _add(total: BatchResult, part: BatchResult) -> None:
    total.created += part.created
    total.updated += part.updated
    total.unchanged += part.unchanged
    total.quarantined += part.quarantined
    total.errors += part.errors[: max(0, MAX_ERRORS_KEPT - len(total.errors))]
    total.unknown_columns = sorted(set(total.unknown_columns) | set(part.unknown_columns))


def _result(total: BatchResult) -> dict[str, Any]:
    return {
        "created": total.created,
        "updated": total.updated,
        "unchanged": total.unchanged,
        "quarantined": total.quarantined,
        "errors": total.errors,
        "unknown_columns": total.unknown_columns,
    }


def _finish(
    factory: SessionFactory,
    job_id: int,
    status: str,
    result: dict[str, Any],
    error: str | None,
    actor: str,
) -> None:
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        job.status, job.result, job.error, job.finished_at = status, result, error, utcnow()
        audit(
            session,
            actor=actor,
            action="ingest.job",
            entity=job.source,
            entity_id=f"job {job_id}: {job.rows_total} rows",
            merchant_id=job.merchant_id,
            detail={
                "status": status,
                **{k: len(v) if isinstance(v, list) else v for k, v in result.items()},
            },
        )
        session.commit()


class JobRunner:
    """Runs jobs one at a time on a thread of its own, off every request."""

    def __init__(self, factory: SessionFactory) -> None:
        self._factory = factory
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lvyue-ingest")

    def submit(self, job_id: int) -> Future[None]:
        return self._pool.submit(run_job, self._factory, job_id)

    def resume_queued(self) -> int:
        """Submit every job still queued (e.g. accepted just before a restart)."""
        with self._factory() as session:
            queued = list(
                session.scalars(select(IngestJob.job_id).where(IngestJob.status == "queued"))
            )
        for job_id in queued:
            self.submit(job_id)
        return len(queued)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
