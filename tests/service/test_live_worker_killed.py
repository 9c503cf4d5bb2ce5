"""Issue 13, correctness: ``kill -9`` of ``lvyue worker`` mid-run, then a restart: nothing
lost (every marked order judged, every violation recorded), nothing applied twice (one
violation and one audit entry per violated verdict), and the live verdicts equal the online
evaluator's. On SQLite and PostgreSQL (the ``service`` fixture)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from lvyue.api.testing import ServiceWorld
from lvyue.engine.online import evaluate_order
from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.tables import AuditEntry, Order
from lvyue.store.workflow_tables import Violation
from lvyue.workflows import config
from lvyue.workflows.actions.stored_facts import facts_for

ORDERS = 1_000
WORKER = "from lvyue.cli.main import app; app()"


def _ingest(service: ServiceWorld) -> list[str]:
    shipped = datetime.now(UTC) - timedelta(days=2)
    ids = [f"KILL-{i}-{service.backend}" for i in range(ORDERS)]
    rows = [
        {"order_id": i, "merchant_id": "m1", "merchant_type": "domestic",
         "category": "服饰内衣>女装>连衣裙", "ship_mode": "spot",
         "pay_time": format_instant(shipped - timedelta(hours=n % 40)),
         "ship_time": format_instant(shipped), "carrier": "yunda",
         "waybill": f"YD{n}{service.backend}"}
        for n, i in enumerate(ids)
    ]  # fmt: skip
    for start in range(0, ORDERS, 1_000):
        body = {"rows": rows[start : start + 1_000]}
        r = service.client.post("/ingest/orders", json=body, headers=service.auth("operator"))
        assert r.status_code == 200 and r.json()["created"] == 1_000, r.text[:300]
    return ids


def _worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", WORKER, "worker", "--url", url, "--batch", "50", *args]
    return subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.DEVNULL)


def _counts(url: str) -> tuple[int, int]:
    """(orders judged, orders still marked dirty); (0, -1) while the worker holds SQLite's
    lock longer than the busy timeout (its first sweeps, on a loaded machine)."""
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            judged = s.scalar(select(func.count(func.distinct(LiveVerdict.order_id)))) or 0
            dirty = s.scalar(select(func.count()).where(LiveMark.dirty.is_(True))) or 0
            return judged, dirty
    except OperationalError:
        return 0, -1
    finally:
        engine.dispose()


def test_a_worker_killed_mid_run_loses_nothing_and_applies_nothing_twice(
    service: ServiceWorld,
) -> None:
    ids = set(_ingest(service))
    worker = _worker(service.url, "--interval", "3600")
    try:
        deadline = time.monotonic() + 600  # its imports alone take a minute on a loaded machine
        while _counts(service.url)[0] == 0 and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)  # mid-run: rounds committed, one open, more marked
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    judged, dirty = _counts(service.url)
    assert judged > 0 and dirty > 0, (judged, dirty)  # killed with work left
    again = _worker(service.url, "--once")
    assert again.wait(1500) == 0  # slow only on a loaded machine
    assert _counts(service.url)[1] == 0  # nothing left marked

    engine = make_engine(service.url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            live = {
                (v.order_id, v.aftersale_id, v.check): (v.status, v.clauses, v.reason)
                for v in s.scalars(select(LiveVerdict).where(LiveVerdict.order_id.like("KILL-%")))
            }
            now = max(v.as_of for v in s.scalars(select(LiveVerdict)))
            orders = list(s.scalars(select(Order).where(Order.order_id.in_(ids))))
            expected = {
                (v.order_id, v.aftersale_id, v.check.value): (v.status.value, v.clauses, v.reason)
                for f in facts_for(s, orders)
                for v in evaluate_order(f, now, config.rules())
            }
            violations = Counter(
                s.scalars(select(Violation.order_id).where(Violation.order_id.in_(ids)))
            )
            recorded = Counter(
                e.split("/")[0]
                for e in s.scalars(
                    select(AuditEntry.entity_id).where(
                        AuditEntry.action == "violation.record",
                        AuditEntry.entity_id.like("KILL-%"),
                    )
                )
            )
    finally:
        engine.dispose()
    assert live == expected
    violated = Counter(k[0] for k, v in expected.items() if v[0] == "violated" and k[2] == "pickup")
    assert sum(violated.values()) == ORDERS  # every order's pickup scan is missing
    assert violations == recorded == violated  # once each: none lost, none twice
