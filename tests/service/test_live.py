"""Live verdicts (issue 13 item 2): writes mark their orders in the same transaction, the
worker judges marked orders with the online evaluator, and violations follow the verdicts —
a late carrier push that proves an on-time pickup withdraws the violation and its audit
says so. On SQLite and PostgreSQL (the ``service`` fixture)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lvyue.api.testing import TEST_SALT, ServiceWorld
from lvyue.cli.main import app as cli
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.model import TrackingEvent, TrackingKind, format_instant
from lvyue.store import live, make_engine, make_session_factory, session_scope
from lvyue.store.db import SessionFactory
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.tables import AuditEntry
from lvyue.store.workflow_tables import Violation
from lvyue.tracking.kuaidi100 import encode_push
from lvyue.workflows import config
from lvyue.workflows.live import drain

_ids = itertools.count(1)
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def factory(service: ServiceWorld) -> Iterator[SessionFactory]:
    engine = make_engine(service.url)
    yield make_session_factory(engine)
    engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def _order(service: ServiceWorld, paid: datetime, shipped: datetime | None = None) -> str:
    """An order of m1 recorded by the platform (an operator's import), shipped if given."""
    order_id = f"LIVE-{next(_ids)}-{service.backend}"
    body: dict[str, Any] = {
        "order_id": order_id,
        "merchant_id": "m1",
        "merchant_type": "domestic",
        "category": "服饰内衣>女装>连衣裙",
        "ship_mode": "spot",
        "pay_time": format_instant(paid),
    }
    if shipped is not None:
        body |= {"ship_time": format_instant(shipped), "carrier": "zhongtong",
                 "waybill": f"ZT{order_id.replace('-', '')}"}  # fmt: skip
    r = service.client.post("/orders", json=body, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    return order_id


def _scan(service: ServiceWorld, order_id: str, kind: str, at: datetime) -> None:
    body = {"carrier": "zhongtong", "waybill": f"ZT{order_id.replace('-', '')}",
            "time": format_instant(at), "kind": kind}  # fmt: skip
    r = service.client.post("/tracking", json=body, headers=service.auth("carrier"))
    assert r.status_code == 201, r.text


def _statuses(factory: SessionFactory, order_id: str) -> dict[str, str]:
    with session_scope(factory) as s:
        rows = s.scalars(select(LiveVerdict).where(LiveVerdict.order_id == order_id))
        return {f"{r.aftersale_id}/{r.check}".lstrip("/"): r.status for r in rows}


def _dirty(factory: SessionFactory, order_id: str) -> bool:
    with session_scope(factory) as s:
        mark = s.get(LiveMark, order_id)
        return mark is not None and mark.dirty


def _violations(factory: SessionFactory, order_id: str) -> set[str]:
    with session_scope(factory) as s:
        return set(s.scalars(select(Violation.check).where(Violation.order_id == order_id)))


def _actions(factory: SessionFactory, entity_id: str) -> list[str]:
    with session_scope(factory) as s:
        query = select(AuditEntry.action).where(AuditEntry.entity_id.like(f"{entity_id}%"))
        return list(s.scalars(query.order_by(AuditEntry.entry_id)))


def test_every_fact_write_marks_its_order_and_the_worker_clears_it(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    order_id = _order(service, NOW - timedelta(hours=5))
    assert _dirty(factory, order_id)  # the order write
    assert drain(factory, config.rules(), _now()).judged >= 1
    assert not _dirty(factory, order_id)
    assert _statuses(factory, order_id)["ship_deadline"] == "pending"
    waybill = f"ZT{order_id.replace('-', '')}"
    body = {"carrier": "zhongtong", "waybill": waybill}
    r = service.client.post(
        f"/orders/{order_id}/shipment", json=body, headers=service.auth("m1.main")
    )
    assert r.status_code == 201, r.text
    assert _dirty(factory, order_id)  # the shipment
    drain(factory, config.rules(), _now())
    assert _statuses(factory, order_id)["ship_deadline"] == "ok"
    assert _statuses(factory, order_id)["pickup"] in ("pending", "at_risk")
    _scan(service, order_id, "pickup", _now())  # after the shipment was accepted
    assert _dirty(factory, order_id)  # a scan of its waybill
    drain(factory, config.rules(), _now())
    assert _statuses(factory, order_id)["pickup"] == "ok"
    request = {"aftersale_id": f"AS-{order_id}", "order_id": order_id, "type": "refund_only",
               "created_at": format_instant(NOW - timedelta(minutes=1))}  # fmt: skip
    r = service.client.post("/after-sales", json=request, headers=service.auth("operator"))
    assert r.status_code == 201, r.text
    assert _dirty(factory, order_id)  # an after-sales request
    drain(factory, config.rules(), _now())
    assert any(k.startswith(f"AS-{order_id}/") for k in _statuses(factory, order_id))
    other = _order(service, NOW - timedelta(hours=1))
    drain(factory, config.rules(), _now())
    body = {"carrier": "zhongtong", "waybill": f"ZT{other.replace('-', '')}",
            "time": format_instant(_now()), "kind": "pickup"}  # fmt: skip
    r = service.client.post("/tracking", json=body, headers=service.auth("carrier"))
    assert r.status_code in (201, 202), r.text  # a waybill nobody shipped with: kept or held
    assert not _dirty(factory, other)


def test_a_batch_of_scans_marks_the_orders_of_new_scans_only(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    """The set-based scan insert (``store.scans``, PostgreSQL: arrays and one statement that
    marks too) marks the orders whose scans are new; the same batch again changes nothing and
    marks nothing; a scan of a waybill nobody shipped with marks nothing."""
    shipped = [_order(service, NOW - timedelta(hours=5), NOW - timedelta(hours=2)) for _ in "ab"]
    drain(factory, config.rules(), _now())
    at = format_instant(NOW - timedelta(hours=1))
    rows = [{"carrier": "zhongtong", "waybill": f"ZT{o.replace('-', '')}", "time": at,
             "kind": "in_transit", "location": "杭州"} for o in shipped]  # fmt: skip
    stray = {**rows[0], "waybill": f"ZT{next(_ids)}NOBODY"}
    batch = {"rows": [*rows, stray]}
    r = service.client.post("/ingest/tracking", json=batch, headers=service.auth("carrier"))
    assert r.status_code == 200 and r.json()["created"] == 3, r.text
    assert [_dirty(factory, o) for o in shipped] == [True, True]
    drain(factory, config.rules(), _now())
    r = service.client.post("/ingest/tracking", json=batch, headers=service.auth("carrier"))
    assert r.status_code == 200 and r.json()["unchanged"] == 3, r.text
    assert [_dirty(factory, o) for o in shipped] == [False, False]
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).where(LiveMark.dirty.is_(True))) == 0


def _push(service: ServiceWorld, order_id: str, kind: str, at: datetime) -> None:
    """A Kuaidi100 push (signed, the bearer route of the carrier integration)."""
    event = TrackingEvent("zhongtong", f"ZT{order_id.replace('-', '')}", at,
                          TrackingKind(kind), "杭州", "【杭州市】快件已揽收")  # fmt: skip
    form = encode_push("zhongtong", event.waybill, [event], salt=TEST_SALT)
    r = service.client.post("/carriers/kuaidi100/push", data=form, headers=service.auth("carrier"))
    assert r.status_code == 200 and r.json()["result"] is True, r.text


@pytest.mark.parametrize("path", ["kuaidi100", "tracking"])
def test_a_late_push_proving_an_on_time_pickup_withdraws_the_violation(
    service: ServiceWorld, factory: SessionFactory, path: str
) -> None:
    shipped = NOW - timedelta(days=2)
    order_id = _order(service, shipped - timedelta(hours=2), shipped)
    drain(factory, config.rules(), NOW)
    assert _statuses(factory, order_id)["pickup"] == "violated"  # no pickup scan in 24 h
    assert "pickup" in _violations(factory, order_id)
    send = _push if path == "kuaidi100" else _scan
    send(service, order_id, "pickup", shipped + timedelta(hours=3))  # arrives 2 days late
    assert "pickup" in _violations(factory, order_id)  # not before the worker judges it
    done = drain(factory, config.rules(), NOW)
    assert done.withdrawn == 1
    assert _statuses(factory, order_id)["pickup"] == "ok"
    assert "pickup" not in _violations(factory, order_id)
    assert _actions(factory, f"{order_id}//pickup") == ["violation.record", "violation.withdraw"]
    drain(factory, config.rules(), NOW)  # judged again: nothing applied twice
    assert _actions(factory, f"{order_id}//pickup") == ["violation.record", "violation.withdraw"]


def test_a_pickup_scan_after_the_limit_keeps_the_violation(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    shipped = NOW - timedelta(days=2)
    order_id = _order(service, shipped - timedelta(hours=2), shipped)
    drain(factory, config.rules(), NOW)
    _scan(service, order_id, "pickup", shipped + timedelta(hours=25))  # 1 h past 24 h
    assert drain(factory, config.rules(), NOW).withdrawn == 0
    assert _statuses(factory, order_id)["pickup"] == "violated"
    assert "pickup" in _violations(factory, order_id)


def _row(factory: SessionFactory, order_id: str, check: str) -> LiveVerdict:
    with session_scope(factory) as s:
        row = s.get(LiveVerdict, (order_id, "", check))
        assert row is not None
        s.expunge(row)
        return row


def test_judged_again_a_verdict_keeps_when_its_status_moved_and_records_when_it_was_judged(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    """``as_of`` and ``facts_at`` follow every judgement; ``changed_at`` only a status move."""
    shipped = NOW - timedelta(hours=1)  # pickup due within 24 h: pending
    order_id = _order(service, shipped - timedelta(hours=1), shipped)
    drain(factory, config.rules(), NOW)
    first = _row(factory, order_id, "pickup")
    assert (first.status, first.as_of) == ("pending", NOW)
    assert first.deadline is not None
    _scan(service, order_id, "info_received", NOW - timedelta(minutes=30))  # marks it again
    later = NOW + timedelta(minutes=5)  # still pending
    assert drain(factory, config.rules(), later).judged == 1
    again = _row(factory, order_id, "pickup")
    assert (again.status, again.as_of, again.changed_at) == ("pending", later, first.changed_at)
    assert again.facts_at > first.facts_at
    at_risk = first.deadline - timedelta(hours=12)
    drain(factory, config.rules(), at_risk)
    moved = _row(factory, order_id, "pickup")
    assert (moved.status, moved.as_of) == ("at_risk", at_risk)
    assert moved.changed_at > again.changed_at


def test_time_alone_moves_pending_to_at_risk_to_violated_when_due(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    order_id = _order(service, NOW - timedelta(hours=1))  # ship deadline 48 h after payment
    drain(factory, config.rules(), NOW)
    assert _statuses(factory, order_id)["ship_deadline"] == "pending"
    with session_scope(factory) as s:
        deadline = s.get(LiveVerdict, (order_id, "", "ship_deadline")).deadline  # type: ignore[union-attr]
        assert s.get(LiveMark, order_id).due_at == deadline - timedelta(hours=12)  # type: ignore[union-attr]
    drain(factory, config.rules(), deadline - timedelta(hours=12, seconds=1))
    assert _statuses(factory, order_id)["ship_deadline"] == "pending"
    drain(factory, config.rules(), deadline - timedelta(hours=12))
    assert _statuses(factory, order_id)["ship_deadline"] == "at_risk"
    drain(factory, config.rules(), deadline - timedelta(seconds=1))
    assert _statuses(factory, order_id)["ship_deadline"] == "at_risk"
    drain(factory, config.rules(), deadline)
    assert _statuses(factory, order_id)["ship_deadline"] == "violated"
    assert "ship_deadline" in _violations(factory, order_id)


def test_at_risk_is_judged_at_read_time_without_waiting_for_the_worker(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    """A verdict stored pending is listed at risk from the instant its deadline comes within
    the horizon, though the worker has not judged it again; a passed deadline is not listed."""
    order_id = _order(service, NOW - timedelta(hours=1))  # ship deadline 48 h after payment
    drain(factory, config.rules(), NOW)
    with session_scope(factory) as s:
        deadline = s.get(LiveVerdict, (order_id, "", "ship_deadline")).deadline  # type: ignore[union-attr]

    def listed(now: datetime) -> dict[str, str]:
        with session_scope(factory) as s:
            rows, _ = live.at_risk(s, "m1", now, horizon=DEFAULT_HORIZON, limit=10_000)
            return {r.check: r.status for r in rows if r.order_id == order_id}

    assert listed(deadline - DEFAULT_HORIZON - timedelta(seconds=1)) == {}
    assert listed(deadline - DEFAULT_HORIZON) == {"ship_deadline": "at_risk"}
    assert _statuses(factory, order_id)["ship_deadline"] == "pending"  # as stored, unjudged
    assert listed(deadline - timedelta(seconds=1)) == {"ship_deadline": "at_risk"}
    assert listed(deadline) == {}  # passed: a violation, not a risk


def test_at_risk_lists_live_verdicts_by_merchant_soonest_first(
    service: ServiceWorld, factory: SessionFactory, tmp_path: Path
) -> None:
    later = _order(service, _now() - timedelta(hours=38))  # ship deadline in 10 h: at risk
    sooner = _order(service, _now() - timedelta(hours=40))  # in 8 h
    calm = _order(service, _now() - timedelta(hours=1))  # in 47 h: pending
    drain(factory, config.rules(), _now())
    c = service.client

    def listed(who: str, **params: Any) -> list[str]:
        r = c.get("/at-risk", params={"limit": 500, **params}, headers=service.auth(who))
        assert r.status_code == 200, r.text
        assert int(r.headers["X-Total-Count"]) >= len(r.json())
        return [row["order_id"] for row in r.json() if row["check"] == "ship_deadline"]

    mine = listed("m1.main")
    assert sooner in mine and later in mine and calm not in mine
    assert mine.index(sooner) < mine.index(later)
    assert sooner not in listed("m2.main")
    assert sooner in listed("operator") and sooner in listed("operator", merchant_id="m1")
    assert sooner not in listed("operator", merchant_id="m2")
    assert sooner in listed("m1.main", within_hours=9) and later not in listed(
        "m1.main", within_hours=9
    )
    assert (
        c.get("/at-risk", params={"merchant_id": "m1"}, headers=service.auth("m2.main")).status_code
        == 404
    )
    assert (
        c.get("/at-risk", params={"within_hours": 13}, headers=service.auth("m1.main")).status_code
        == 422
    )
    assert c.get("/at-risk", headers=service.auth("m1.clerk")).status_code == 403
    one = c.get("/at-risk", params={"limit": 1}, headers=service.auth("m1.main"))
    assert len(one.json()) == 1 and int(one.headers["X-Total-Count"]) >= 2
    times = ("deadline", "judged_as_of", "facts_at")  # Beijing offset, as /violations writes
    assert all(one.json()[0][t].endswith("+08:00") for t in times), one.json()
    # the CLI reads the same live verdicts (one definition of at risk)
    out = tmp_path / "at-risk.csv"
    args = ["at-risk", "--database", service.url, "--merchant", "m1", "--out", str(out)]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    written = out.read_text(encoding="utf-8")
    assert sooner in written and later in written and calm not in written
    assert CliRunner().invoke(cli, ["at-risk", *args[1:3], "--within", "13h"]).exit_code == 2
    assert CliRunner().invoke(cli, ["at-risk"]).exit_code == 2


def test_drain_waits_for_a_mark_another_transaction_holds_and_gives_up_after_its_cap(
    service: ServiceWorld, factory: SessionFactory
) -> None:
    """PostgreSQL claims ``FOR UPDATE SKIP LOCKED``: an empty claim while a mark is held is
    not "nothing to do" (drain waits and judges it once released), and a transaction that
    never lets go does not hang ``drain`` past ``locked_wait``."""
    order_id = _order(service, NOW - timedelta(hours=5))
    if service.backend == "sqlite":  # one writer, no row locks: nothing is ever skipped
        assert drain(factory, config.rules(), _now(), locked_wait=0.3).judged == 1
        assert not _dirty(factory, order_id)
        return
    holder = factory()
    holder.execute(select(LiveMark).where(LiveMark.order_id == order_id).with_for_update())
    try:
        started = time.monotonic()
        assert drain(factory, config.rules(), _now(), locked_wait=0.3).judged == 0
        assert 0.3 <= time.monotonic() - started < 25  # not the default 30 s
        assert _dirty(factory, order_id)  # still waiting for the worker
        threading.Timer(0.3, holder.rollback).start()
        assert drain(factory, config.rules(), _now(), locked_wait=10).judged == 1
    finally:
        holder.close()
    assert not _dirty(factory, order_id)
    assert _statuses(factory, order_id)
