"""Issue 12 (hostile review, item 4): an ingestion job whose process died while running it
used to stay "running" forever, its remaining rows never applied. A runner now holds a lease
renewed with each chunk; a job whose lease ran out is claimed again (a server starting, or
``lvyue worker``'s round) and resumes after the rows it had committed — none applied twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory
from lvyue.store.db import SessionFactory
from lvyue.store.jobs import CHUNK_ROWS, LEASE, create_job, run_job, run_pending
from lvyue.store.tables import AuditEntry, IngestJob, Order, utcnow
from lvyue.store.write import Scope, write_rows


def _rows(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "order_id": f"{prefix}-{i}",
            "merchant_id": "m1",
            "merchant_type": "domestic",
            "category": "服饰内衣>女装",
            "ship_mode": "spot",
            "pay_time": "2024-02-09 10:00:00",
        }
        for i in range(1, count + 1)
    ]


def _factory(service: ServiceWorld) -> SessionFactory:
    return make_session_factory(make_engine(service.url))


def _abandoned_job(factory: SessionFactory, prefix: str, lease_left: timedelta) -> int:
    """A 2,500-row job whose runner committed its first chunk and then died (or, with
    ``lease_left`` > 0, is still alive)."""
    rows = _rows(prefix, 2_500)
    scope = Scope(merchant_id="m1")
    with factory() as session:
        job = create_job(session, "orders", rows, scope, "m1.main")
        part = write_rows(session, "orders", rows[:CHUNK_ROWS], scope, "m1.main")
        job.status, job.claimed_by, job.rows_done = "running", "dead-host:1:abc", CHUNK_ROWS
        job.lease_until, job.attempts = utcnow() + lease_left, 1
        job.result = {
            "created": part.created,
            "updated": 0,
            "unchanged": 0,
            "quarantined": [],
            "errors": [],
            "unknown_columns": [],
        }
        session.commit()
        return job.job_id


def _count(factory: SessionFactory, prefix: str) -> int:
    with factory() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Order).where(Order.order_id.like(f"{prefix}-%"))
            )
            or 0
        )


def test_a_job_abandoned_by_a_dead_runner_is_resumed_once(service: ServiceWorld) -> None:
    factory = _factory(service)
    job_id = _abandoned_job(factory, "dead", lease_left=-timedelta(seconds=1))
    assert job_id in run_pending(factory, "second-runner")
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        assert (job.status, job.rows_done, job.claimed_by, job.attempts) == (
            "done",
            2_500,
            "second-runner",
            2,
        )
        assert job.result is not None and job.result["created"] == 2_500
        assert job.result["unchanged"] == 0  # the first chunk was not applied again
        audited = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "ingest.job", AuditEntry.entity_id.like(f"job {job_id}:%")
            )
        ).all()
        assert len(audited) == 1
    assert _count(factory, "dead") == 2_500
    assert run_pending(factory, "third-runner") == []  # finished: nobody claims it again


def test_a_job_under_a_live_lease_is_left_to_its_runner(service: ServiceWorld) -> None:
    factory = _factory(service)
    job_id = _abandoned_job(factory, "alive", lease_left=LEASE)
    assert job_id not in run_pending(factory, "intruder")
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None and (job.status, job.claimed_by) == ("running", "dead-host:1:abc")
    assert _count(factory, "alive") == CHUNK_ROWS


def test_a_runner_that_lost_its_lease_commits_nothing_more(service: ServiceWorld) -> None:
    """The first runner was slow, not dead: its lease ran out and another took the job. When
    it comes back, its next chunk is rolled back and it does not finish the job."""
    factory = _factory(service)
    job_id = _abandoned_job(factory, "slow", lease_left=-timedelta(seconds=1))
    with factory() as session:  # the takeover, as a second runner's claim leaves it
        session.execute(
            update(IngestJob)
            .where(IngestJob.job_id == job_id)
            .values(claimed_by="taker", lease_until=utcnow() + LEASE)
        )
        session.commit()
    run_job(factory, job_id, "dead-host:1:abc")  # the slow one cannot claim it back
    assert _count(factory, "slow") == CHUNK_ROWS
    with factory() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None and (job.status, job.claimed_by) == ("running", "taker")
