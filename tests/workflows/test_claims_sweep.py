"""The worker records VF-9's graded measures by rule (workflows.claim_measures, daily), on the
service's own data (promotions posted to it, orders naming them, their shipments): a creator
whose 48小时内发货 claim 2 of 10 orders did not get (CC warn share 0.2) gets a warning at the
first closed period end, one with 1 of 10 none; the sweep run again records nothing more; an
operator's lifting stands against that period's sweeps; two periods without a false claim
(CC-15) and the sweep lifts it by rule; a warning late data no longer supports (an 11th order,
on time) is withdrawn by rule. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from tests.workflows.conftest import beijing, run_named_sweep

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory
from lvyue.store.sweeps import SweepRun
from lvyue.store.workflow_tables import Measure

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
SWEEP = "workflows.claim_measures"
FIRST_END = "2024-02-15T00:00:00+08:00"  # VF-9's first period end (effective day + CC-13)


def _sweep(service: ServiceWorld, now: datetime) -> SweepRun:
    return run_named_sweep(service, SWEEP, now)


def _post(service: ServiceWorld, path: str, body: dict[str, Any], who: str = "operator") -> Any:
    r = service.client.post(path, json=body, headers=service.auth(who))
    assert r.status_code == 201, r.text
    return r.json()


def _promoted(service: ServiceWorld, creator: str, late: int) -> None:
    """``creator`` promotes m1's product with 48小时内发货; 10 orders paid 2024-02-09 10:00 come
    from it, ``late`` of them shipped on the 12th (after 48 h), the others the same day."""
    product = f"P-{creator}"
    _post(service, "/creators", {"creator_id": creator, "name": "达人"})
    _post(service, f"/creators/{creator}/shares", {"product_id": product, "merchant_id": "m1"})
    promotion = f"PR-{creator}"
    _post(service, "/creators/promotions", {"promotion_id": promotion, "product_id": product,
          "text": "48小时内发货", "creator_id": creator,
          "published_at": "2024-02-01T00:00:00+08:00"})  # fmt: skip
    for k in range(10):
        _order(
            service, creator, k, beijing("2024-02-12") if k < late else beijing("2024-02-09", 14)
        )


def _order(service: ServiceWorld, creator: str, k: int, shipped: datetime) -> None:
    """Order k from ``creator``'s promotion, paid 2024-02-09 10:00, shipped at ``shipped``."""
    promotion, product = f"PR-{creator}", f"P-{creator}"
    oid = f"{promotion}-{k}-{service.backend}"
    _post(service, "/orders", {"order_id": oid, "merchant_id": "m1", "product_id": product,
          "merchant_type": "domestic", "category": FLOWERS, "ship_mode": "spot",
          "pay_time": "2024-02-09 10:00:00", "promotion_id": promotion})  # fmt: skip
    app: Any = service.client.app
    app.state.clock = lambda: shipped
    waybill = {"carrier": "zhongtong", "waybill": f"ZT{promotion[3:]}{k:04d}"}
    _post(service, f"/orders/{oid}/shipment", waybill, "m1.main")


def _rows(service: ServiceWorld, creator: str) -> list[Measure]:
    engine = make_engine(service.url)
    with make_session_factory(engine)() as session:
        rows = list(session.scalars(select(Measure).where(Measure.creator_id == creator)
                                    .order_by(Measure.measure_id)))  # fmt: skip
    engine.dispose()
    return rows


def _creator_auth(service: ServiceWorld, creator: str) -> dict[str, str]:
    body = {"account_id": f"acct-{creator}", "name": "达人", "role": "creator",
            "organisation": creator}  # fmt: skip
    return {"Authorization": f"Bearer {_post(service, '/accounts', body)['token']}"}


def test_a_false_claim_recorded_once_a_true_one_none_and_an_operators_lifting_stands(
    service: ServiceWorld, pinned: None
) -> None:
    _promoted(service, "C1", late=2)  # 0.2: at the warn share
    _promoted(service, "C2", late=1)  # 0.1: below it
    first = _sweep(service, beijing("2024-02-15"))
    assert first.ran and first.result is not None and first.result["recorded"] == 1, first
    assert _rows(service, "C2") == []
    (warning,) = _rows(service, "C1")
    assert (warning.kind, warning.created_by) == ("warning", "rule:VF-9")
    assert _sweep(service, beijing("2024-02-15", 20)).ran is False  # the day's claim
    later = _sweep(service, beijing("2024-02-16"))  # another day, the same period
    assert later.ran and later.result is not None and later.result["recorded"] == 0
    assert len(_rows(service, "C1")) == 1
    c1 = _creator_auth(service, "C1")
    (mine,) = service.client.get("/creators/measures/recorded", headers=c1).json()
    assert (mine["kind"], mine["state"], mine["start"]) == ("warning", "active", FIRST_END)
    assert mine["until"] == "2024-02-29T00:00:00+08:00"  # two clean periods later (CC-15)
    assert "2/10 orders (20.0%) did not get it" in mine["reason"], mine["reason"]
    op = service.auth("operator")
    query = {"entity": "measure", "entity_id": str(warning.measure_id)}
    audit = service.client.get("/audit", params=query, headers=op).json()
    assert [(e["action"], e["actor"]) for e in audit] == [("measure.impose", "rule:VF-9")]
    lifted = service.client.post(f"/measures/{warning.measure_id}/lift", headers=op)
    assert lifted.status_code == 200, lifted.text
    again = _sweep(service, beijing("2024-02-17"))  # the same period: not imposed again
    assert again.ran and again.result is not None and again.result["recorded"] == 0
    (still,) = _rows(service, "C1")
    assert (still.state, still.lifted_by) == ("lifted", "operator")


def test_two_periods_without_a_false_claim_the_measure_is_lifted_by_rule(
    service: ServiceWorld, pinned: None
) -> None:
    _promoted(service, "C3", late=3)
    assert _sweep(service, beijing("2024-02-18")).ran
    (warning,) = _rows(service, "C3")
    assert (warning.kind, warning.state) == ("warning", "active")
    assert _sweep(service, beijing("2024-02-23")).ran  # one clean period: still in force
    assert [(r.state, r.lifted_by) for r in _rows(service, "C3")] == [("active", None)]
    assert _sweep(service, beijing("2024-03-01")).ran  # two: lifted by rule
    (done,) = _rows(service, "C3")
    assert (done.state, done.lifted_by) == ("lifted", "rule:VF-9")
    assert done.lifted_at is not None
    assert done.lifted_at.replace(tzinfo=done.lifted_at.tzinfo or UTC) == beijing("2024-02-29", 0)


def test_a_measure_late_data_no_longer_supports_is_withdrawn_by_rule(
    service: ServiceWorld, pinned: None
) -> None:
    """C4's claim failed 2 of 10 orders (at the warn share 0.2): a warning. An 11th order from
    the promotion, paid in the same period and shipped on time, is recorded late (2 of 11:
    0.18, below the share): the next sweep re-judges the period, no longer proposes the warning
    and lifts it by rule at its own instant, saying why (VF-9's path of the withdrawal)."""
    _promoted(service, "C4", late=2)
    assert _sweep(service, beijing("2024-02-19")).ran
    (warning,) = _rows(service, "C4")
    assert (warning.kind, warning.created_by, warning.state) == ("warning", "rule:VF-9", "active")
    same = _sweep(service, beijing("2024-02-20"))  # nothing new: C4's warning stands
    assert same.ran and [r.state for r in _rows(service, "C4")] == ["active"], same
    _order(service, "C4", 10, beijing("2024-02-09", 14))
    run = _sweep(service, beijing("2024-02-21"))
    assert run.ran and run.result is not None and run.result["withdrawn"] >= 1, run
    (lifted,) = _rows(service, "C4")
    assert (lifted.state, lifted.lifted_by) == ("lifted", "rule:VF-9")
    assert lifted.lifted_at is not None
    at = lifted.lifted_at.replace(tzinfo=lifted.lifted_at.tzinfo or UTC)
    assert at == beijing("2024-02-21")
    query = {"entity": "measure", "entity_id": str(lifted.measure_id)}
    audit = service.client.get("/audit", params=query, headers=service.auth("operator")).json()
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("measure.lift", "rule:VF-9"),
        ("measure.impose", "rule:VF-9"),
    ]  # newest first
    assert audit[0]["detail"]["reason"] == "no longer supported on re-judgement", audit[0]
