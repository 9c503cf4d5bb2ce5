"""Ingestion jobs: a large upload is stored as a job and processed off the request, in
transactions of ``CHUNK_ROWS`` rows each, so that no request waits for it (on SQLite the write
lock is held for one chunk at a time, not for the whole file). Progress is committed with each
chunk; a row is numbered in the upload (from 1), so quarantine entries and a re-run of the
job are the same as for a synchronous batch. A job that fails part-way keeps the chunks it
committed (natural keys make running the file again harmless) and says why.

A runner holds a job under a lease (``claimed_by``, ``lease_until``) that each chunk's
transaction renews together with the progress and the totals so far. If its process dies,
the lease runs out and another runner (a server starting, ``lvyue worker``'s next round)
claims the job and resumes after ``rows_done``: a committed chunk is never applied twice, and
a runner that lost its lease (it was only slow) cannot commit another chunk.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from lvyue.store.audit import audit
from lvyue.store.db import SessionFactory
from lvyue.store.retry import retrying
from lvyue.store.tables import IngestJob, utcnow
from lvyue.store.write import BatchResult, Scope, write_rows

CHUNK_ROWS = 1_000
SQLITE_PAUSE_S = 0.15
MAX_ERRORS_KEPT = 100
# Our choice: a runner renews its lease with every chunk (a chunk takes seconds); a job whose
# lease is this far past is taken as abandoned (its process died) and resumed by another.
LEASE = timedelta(minutes=2)
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


class LeaseLost(RuntimeError):
    """Another runner took the job over (this one's lease ran out): stop, keep nothing more."""


def runner_name() -> str:
    """Who claims a job: host, process and a nonce (two runners in one process differ)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Queued, or running under a lease that ran out (its runner died; NULL: claimed before
    leases existed)."""
    stale = or_(IngestJob.lease_until.is_(None), IngestJob.lease_until < now)
    return or_(IngestJob.status == "queued", and_(IngestJob.status == "running", stale))


def _claim(factory: SessionFactory, job_id: int, runner: str) -> bool:
    """Take the job's lease; False if another runner holds it (or it is finished)."""
    now = utcnow()
    with factory() as session:
        claimed = session.execute(
            update(IngestJob)
            .where(IngestJob.job_id == job_id, _claimable(now))
            .values(
                status="running",
                started_at=func.coalesce(IngestJob.started_at, now),
                claimed_by=runner,
                lease_until=now + LEASE,
                attempts=IngestJob.attempts + 1,
            )
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return bool(claimed == 1)


def run_job(factory: SessionFactory, job_id: int, runner: str | None = None) -> None:
    """Process a queued (or abandoned) job chunk by chunk from where it got; never raises (the
    job records the failure). Each chunk commits with the job's progress and renewed lease, so
    a job resumed after its runner died applies no row twice."""
    runner = runner or runner_name()
    if not _claim(factory, job_id, runner):
        return
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        rows, source, actor, done = job.rows, job.source, job.account_id, job.rows_done
        total = _total_of(job.result)
        # SQLite's busy handler polls (up to 100 ms apart): without a gap a waiting writer
        # could miss every moment the lock is free. PostgreSQL locks rows, not the database.
        pause = SQLITE_PAUSE_S if session.get_bind().dialect.name == "sqlite" else 0.0
    try:
        for start in range(done, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            total = _run_chunk(factory, job_id, runner, source, chunk, start, total)
            time.sleep(pause)  # let writers waiting for SQLite's lock in before the next chunk
        _finish(factory, job_id, runner, "done", _result(total), None, actor)
    except LeaseLost:
        log.warning("ingest job %s: lease lost to another runner; stopped", job_id)
    except Exception as error:  # the job says what went wrong; the runner goes on
        log.exception("ingest job %s failed", job_id)
        detail = f"{type(error).__name__}: {error}"
        _finish(factory, job_id, runner, "failed", _result(total), detail, actor)


def _mine(job_id: int, runner: str) -> ColumnElement[bool]:
    return and_(
        IngestJob.job_id == job_id, IngestJob.claimed_by == runner, IngestJob.status == "running"
    )


def _run_chunk(
    factory: SessionFactory,
    job_id: int,
    runner: str,
    source: str,
    chunk: list[dict[str, Any]],
    start: int,
    before: BatchResult,
) -> BatchResult:
    """Apply one chunk and, in the same transaction, record the progress so far and renew the
    lease; raises LeaseLost (rolled back) if the job is no longer this runner's."""
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        scope = Scope(merchant_id=job.merchant_id, carrier=job.carrier, may_ship=job.may_ship)
        actor = job.account_id

        def transaction() -> BatchResult:
            part = write_rows(session, source, chunk, scope, actor, first_line=start + 1)
            total = _total_of(_result(before))
            _add(total, part)
            renewed = session.execute(
                update(IngestJob)
                .where(_mine(job_id, runner))
                .values(
                    rows_done=start + len(chunk),
                    result=_result(total),
                    lease_until=utcnow() + LEASE,
                )
            ).rowcount  # type: ignore[attr-defined]
            if renewed != 1:
                session.rollback()
                raise LeaseLost(job_id)
            session.commit()
            return total

        return retrying(session, transaction)


def _total_of(result: dict[str, Any] | None) -> BatchResult:
    """The totals a job recorded so far (none yet: zero)."""
    if not result:
        return BatchResult()
    return BatchResult(
        created=result["created"],
        updated=result["updated"],
        unchanged=result["unchanged"],
        quarantined=list(result["quarantined"]),
        errors=list(result["errors"]),
        unknown_columns=list(result["unknown_columns"]),
    )


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
    runner: str,
    status: str,
    result: dict[str, Any],
    error: str | None,
    actor: str,
) -> None:
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        if (job.claimed_by, job.status) != (runner, "running"):
            return  # another runner took it over; it finishes it
        job.status, job.result, job.error, job.finished_at = status, result, error, utcnow()
        job.lease_until = None
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


def pending_jobs(factory: SessionFactory) -> list[int]:
    """Jobs a runner may claim now: queued, or abandoned by a runner that died."""
    with factory() as session:
        return list(
            session.scalars(
                select(IngestJob.job_id).where(_claimable(utcnow())).order_by(IngestJob.job_id)
            )
        )


def run_pending(factory: SessionFactory, runner: str | None = None) -> list[int]:
    """Run every claimable job here, one after the other (``lvyue worker`` calls this each
    round, so an abandoned job is finished even when no server restarts)."""
    pending = pending_jobs(factory)
    for job_id in pending:
        run_job(factory, job_id, runner)
    return pending


class JobRunner:
    """Runs jobs one at a time on a thread of its own, off every request."""

    def __init__(self, factory: SessionFactory) -> None:
        self._factory = factory
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lvyue-ingest")

    def submit(self, job_id: int) -> Future[None]:
        return self._pool.submit(run_job, self._factory, job_id)

    def resume_queued(self) -> int:
        """Submit every job still queued (e.g. accepted just before a restart) or abandoned
        (running under a lease that ran out: its process died)."""
        pending = pending_jobs(self._factory)
        for job_id in pending:
            self.submit(job_id)
        return len(pending)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
