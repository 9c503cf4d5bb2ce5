"""The worker records VF-8's graded measures by rule (workflows.indicator_measures, daily), on
the service's own data: a merchant at its defect-rate threshold (3 of 100 orders 残次, IND
0.03) gets a warning at the first closed period end, one a defect below gets none; the sweep
run again (the same day, or another day of the same period) records nothing more; a measure
an operator lifted is not imposed again by that period's sweeps; a merchant normal for
``measures.lift_after_periods`` periods sees its measure lifted by rule; one that late data
(more orders for the period) no longer supports is withdrawn by the next sweep, an operator's
own measure untouched. SQLite, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from tests.workflows.conftest import beijing, run_named_sweep

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.accounts import create_account, create_merchant, issue_token
from lvyue.store.permissions import Role
from lvyue.store.sweeps import SweepRun
from lvyue.store.tables import Merchant
from lvyue.store.workflow_tables import Measure

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
SWEEP = "workflows.indicator_measures"
PAID = datetime(2024, 2, 10, 2, 0, tzinfo=UTC)  # 10:00 Beijing, inside VF-8's window
FIRST_END = "2024-02-15T00:00:00+08:00"  # VF-8's first period end (window start + 7 days)


def _sweep(service: ServiceWorld, now: datetime) -> SweepRun:
    return run_named_sweep(service, SWEEP, now)


def _shop(service: ServiceWorld, merchant: str, industry: str, defects: int) -> None:
    """100 flower orders paid in VF-8's window; ``defects`` of them get a 残次 request."""
    engine = make_engine(service.url)
    with session_scope(make_session_factory(engine)) as session:
        if session.get(Merchant, merchant) is None:
            create_merchant(session, merchant, merchant, "domestic")
    engine.dispose()
    ids = [f"sw-{merchant}-{i}-{service.backend}" for i in range(100)]
    _orders(service, merchant, industry, ids)
    _defects(service, ids[:defects], beijing("2024-02-12"))


def _orders(service: ServiceWorld, merchant: str, industry: str, ids: list[str]) -> None:
    rows = [{"order_id": oid, "merchant_id": merchant, "merchant_type": "domestic",
             "category": FLOWERS, "ship_mode": "spot", "pay_time": PAID.isoformat(),
             "product_id": f"P-{merchant}", "consumer_id": "consumer",
             "industry": industry} for oid in ids]  # fmt: skip
    op = service.auth("operator")
    assert service.client.post("/ingest/orders", json={"rows": rows}, headers=op).status_code in (
        200, 201)  # fmt: skip


def _defects(service: ServiceWorld, orders: list[str], at: datetime) -> None:
    app: Any = service.client.app
    app.state.clock = lambda: at
    for oid in orders:
        body = {"order_id": oid, "type": "refund_only", "reason": "defect"}
        r = service.client.post("/workflows/after-sales", json=body,
                                headers=service.auth("consumer"))  # fmt: skip
        assert r.status_code == 201, r.text


def _main_account(service: ServiceWorld, merchant: str) -> dict[str, str]:
    """The shop's main account (the seeded world has only m1's and m2's)."""
    engine = make_engine(service.url)
    with session_scope(make_session_factory(engine)) as session:
        account = f"{merchant}.main"
        create_account(session, account_id=account, name=account, role=Role.MERCHANT_MAIN,
                       merchant_id=merchant)  # fmt: skip
        token = issue_token(session, account)
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def _rows(service: ServiceWorld, merchant: str) -> list[Measure]:
    engine = make_engine(service.url)
    with make_session_factory(engine)() as session:
        rows = list(session.scalars(select(Measure).where(Measure.merchant_id == merchant)
                                    .order_by(Measure.measure_id)))  # fmt: skip
    engine.dispose()
    return rows


def test_at_the_threshold_recorded_once_below_none_and_an_operators_lifting_stands(
    service: ServiceWorld, pinned: None
) -> None:
    _shop(service, "m1", "花店甲", defects=3)  # 0.03: at IND's warn threshold
    _shop(service, "m2", "花店乙", defects=2)  # 0.02: below it (no peers: own industries)
    before = _sweep(service, beijing("2024-02-14", 23))
    assert (before.ran, before.result) == (True, {"periods": 0})  # no period closed yet
    first = _sweep(service, beijing("2024-02-15"))
    assert first.ran and first.result is not None and first.result["recorded"] == 1, first
    assert _rows(service, "m2") == []
    (warning,) = _rows(service, "m1")
    assert (warning.kind, warning.created_by, warning.clause) == ("warning", "rule:VF-8",
                                                                  "VF-8;MS-1")  # fmt: skip
    assert _sweep(service, beijing("2024-02-15", 20)).ran is False  # the day's claim
    later = _sweep(service, beijing("2024-02-16"))  # another day, the same period
    assert later.ran and later.result is not None and later.result["recorded"] == 0
    assert len(_rows(service, "m1")) == 1
    seen = service.client.get("/measures", headers=service.auth("m1.main")).json()
    (mine,) = [m for m in seen if m["measure_id"] == warning.measure_id]
    assert (mine["state"], mine["created_at"]) == ("active", FIRST_END)
    assert mine["until"] == "2024-02-29T00:00:00+08:00"  # two normal periods later (MS-7)
    assert "defect_rate 0.03 (warn" in mine["reason"], mine["reason"]
    assert service.client.get("/measures", headers=service.auth("m2.main")).json() == []
    op = service.auth("operator")
    query = {"entity": "measure", "entity_id": str(warning.measure_id)}
    audit = service.client.get("/audit", params=query, headers=op).json()
    assert [(e["action"], e["actor"]) for e in audit] == [("measure.impose", "rule:VF-8")]
    lifted = service.client.post(f"/measures/{warning.measure_id}/lift", headers=op)
    assert lifted.status_code == 200, lifted.text
    again = _sweep(service, beijing("2024-02-17"))  # the same period: not imposed again
    assert again.ran and again.result is not None and again.result["recorded"] == 0
    (still,) = _rows(service, "m1")
    assert (still.state, still.lifted_by) == ("lifted", "operator")


def test_normal_for_two_periods_the_measure_is_lifted_by_rule(
    service: ServiceWorld, pinned: None
) -> None:
    """m3 is abnormal against a peer without defects; a week later its peer m4 has many more,
    so by the industry's peers m3 is normal (VF-8 compares with peers): after two such periods
    (MS-7) the sweep lifts m3's warning by rule, at the period end that lifts it."""
    _shop(service, "m3", "花店丙", defects=3)
    _shop(service, "m4", "花店丙", defects=0)
    assert _sweep(service, beijing("2024-02-18")).ran
    (warning,) = _rows(service, "m3")
    assert (warning.kind, warning.state) == ("warning", "active")
    _defects(service, [f"sw-m4-{i}-{service.backend}" for i in range(10)], beijing("2024-02-16"))
    assert _sweep(service, beijing("2024-02-23")).ran  # one normal period: still in force
    (held,) = _rows(service, "m3")
    assert (held.state, held.lifted_by) == ("active", None)
    assert _sweep(service, beijing("2024-03-01")).ran  # two: lifted by rule
    (done,) = _rows(service, "m3")
    assert (done.state, done.lifted_by) == ("lifted", "rule:VF-8")
    assert done.lifted_at is not None
    assert done.lifted_at.replace(tzinfo=done.lifted_at.tzinfo or UTC) == beijing("2024-02-29", 0)


def test_a_measure_late_data_no_longer_supports_is_withdrawn_by_rule(
    service: ServiceWorld, pinned: None
) -> None:
    """m5 at the threshold (3 of 100) gets a warning from the first period's sweep; one more
    normal order paid in that period arrives late (3 of 101: 0.0297, just below 0.03): the next
    sweep re-judges the period, no longer proposes the warning and lifts it by rule at its own
    instant, saying why. The operator's warning of the same kind and start stays in force. (The
    world is the module's: the sweeps run on days of the first period the tests above left.)"""
    _shop(service, "m5", "花店丁", defects=3)
    assert _sweep(service, beijing("2024-02-19")).ran
    (warning,) = _rows(service, "m5")
    assert (warning.created_by, warning.state) == ("rule:VF-8", "active")
    app: Any = service.client.app
    app.state.clock = lambda: beijing("2024-02-15", 0)  # the same start as the rule's
    body = {"merchant_id": "m5", "kind": "warning", "reason": "情人节指标异常", "clause": "VF-8"}
    posted = service.client.post("/measures", json=body, headers=service.auth("operator"))
    assert posted.status_code == 201, posted.text
    same = _sweep(service, beijing("2024-02-20"))  # nothing new: nothing withdrawn
    assert same.result is not None and same.result["withdrawn"] == 0, same
    _orders(service, "m5", "花店丁", [f"sw-m5-late-{service.backend}"])
    run = _sweep(service, beijing("2024-02-21"))
    assert run.result is not None and run.result["withdrawn"] == 1, run  # m1's, m3's: proposed
    rule, operator = _rows(service, "m5")
    assert (rule.state, rule.lifted_by) == ("lifted", "rule:VF-8")
    assert rule.lifted_at is not None
    assert rule.lifted_at.replace(tzinfo=rule.lifted_at.tzinfo or UTC) == beijing("2024-02-21")
    assert (operator.created_by, operator.state, operator.lifted_by) == ("operator", "active", None)
    mine = service.client.get("/measures", headers=_main_account(service, "m5")).json()
    seen = {m["measure_id"]: m for m in mine}
    assert seen[rule.measure_id]["state"] == "lifted"
    assert seen[operator.measure_id]["state"] == "active"
    query = {"entity": "measure", "entity_id": str(rule.measure_id)}
    audit = service.client.get("/audit", params=query, headers=service.auth("operator")).json()
    rule_steps = [("measure.lift", "rule:VF-8"), ("measure.impose", "rule:VF-8")]  # newest first
    assert [(e["action"], e["actor"]) for e in audit] == rule_steps
    assert audit[0]["detail"]["reason"] == "no longer supported on re-judgement", audit[0]
    assert audit[0]["clause"] == "VF-8;MS-1"
    assert _sweep(service, beijing("2024-02-22")).ran  # two periods: the lifting stands
    assert [r.state for r in _rows(service, "m5")] == ["lifted", "active"]


def test_a_failing_measures_sweep_is_logged_and_the_others_still_run(
    service: ServiceWorld, pinned: None, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Each sweep runs in its own transaction (store.sweeps.run_sweep): a crash rolls back its
    claim (it runs again next time), is logged, and the worker's other sweeps run."""
    from lvyue.store.sweeps import run_due
    from lvyue.workflows import rule_sweeps

    def broken(session: Any) -> Any:
        raise RuntimeError("store unreadable")

    now = beijing("2024-03-05")
    engine = make_engine(service.url)
    factory = make_session_factory(engine)
    with monkeypatch.context() as patched:
        patched.setattr(rule_sweeps, "stored_tables", broken)
        runs = {r.sweep: r for r in run_due(factory, now=now, worker="test")}
    assert runs[SWEEP].error == "RuntimeError: store unreadable"
    assert runs["workflows.claim_measures"].error == "RuntimeError: store unreadable"
    assert runs["workflows.penalty_bans"].ran and runs["workflows.violations_from_verdicts"].ran
    assert f"sweep {SWEEP} failed" in caplog.text
    retried = {r.sweep: r for r in run_due(factory, now=now, worker="test")}
    assert retried[SWEEP].ran and retried[SWEEP].error is None
    assert not retried["workflows.penalty_bans"].ran  # it had run for this hour
    engine.dispose()


def test_a_run_withdraws_only_the_measures_of_parties_it_judged(
    service: ServiceWorld, pinned: None
) -> None:
    """``lvyue measures propose FACTS --record`` judges a snapshot that may hold only some
    shops: a rule's measure of a shop the run did not judge is left alone, whatever the run
    proposed; one of a judged shop the run no longer proposes is withdrawn."""
    from lvyue.workflows.actions.measures import record_by_rule
    from lvyue.workflows.actions.rule_measures import VF8_ACTOR, record_indicator_measures
    from lvyue.workflows.measures import MeasureKind

    start = datetime.fromisoformat("2023-12-01T00:00:00+08:00")  # no sweep judges it
    engine = make_engine(service.url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        for shop in ("m1", "m2"):
            record_by_rule(session, merchant_id=shop, product_id=None, kind=MeasureKind.WARNING,
                           reason="test", clause="VF-8;MS-1", start=start, until=None,
                           end=None, actor=VF8_ACTOR)  # fmt: skip
    later = beijing("2023-12-02")
    with session_scope(factory) as session:  # judged m1 only, proposing nothing
        done = record_indicator_measures(session, [], [start], later, {("m1", None)})
    assert done.withdrawn == 1
    with factory() as session:
        query = select(Measure.merchant_id, Measure.state).where(Measure.created_at == start)
        states = dict(session.execute(query).all())
    engine.dispose()
    assert states == {"m1": "lifted", "m2": "active"}
