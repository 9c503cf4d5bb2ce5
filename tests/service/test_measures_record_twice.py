"""`lvyue measures propose --record` run twice at once (issue 12, what the hostile review did
not reach): run after run it was idempotent (tests/indicators/test_measures_cli.py), but two
runs at once both found the measure unrecorded and both recorded it (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory
from lvyue.store.workflow_tables import Measure
from lvyue.workflows.actions.measures import record_by_rule
from lvyue.workflows.measures import MeasureKind

START = datetime(2024, 2, 14, tzinfo=UTC)


def test_two_recorders_at_once_record_a_measure_once(service: ServiceWorld) -> None:
    factory = make_session_factory(make_engine(service.url))
    first_recorded = threading.Event()
    results: dict[str, object] = {}

    def record(name: str) -> None:
        with factory() as session:
            if name == "second":
                first_recorded.wait(30)
            row = record_by_rule(
                session, merchant_id="m1", product_id=None, kind=MeasureKind.WARNING,
                reason="VF-8 test", clause="VF-8;VF-8-1", start=START, until=None, end=None,
                actor="rule:VF-8",
            )  # fmt: skip
            results[name] = row is not None
            if name == "first":
                first_recorded.set()
                threading.Event().wait(1.0)  # the second runs while this one is open
            session.commit()

    threads = [threading.Thread(target=record, args=(n,)) for n in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with factory() as session:
        count = session.scalar(
            select(func.count()).select_from(Measure).where(Measure.reason == "VF-8 test")
        )
    factory.kw["bind"].dispose()
    assert results == {"first": True, "second": False}
    assert count == 1
