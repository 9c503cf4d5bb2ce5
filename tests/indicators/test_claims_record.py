"""VF-9 measures recorded like VF-8's (``lvyue creators measures --record``): once however
often it runs; a later run lifts by rule what it recorded; an operator lifts one (audited);
the creator sees why and until when (API and CLI); a merchant its own listings' measures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.csv as pcsv
import pytest
from claims_market import PAY, ClaimMarket
from sqlalchemy import func, select
from typer.testing import CliRunner

from lvyue.api.testing import ServiceWorld
from lvyue.cli.main import app
from lvyue.store import make_engine, make_session_factory
from lvyue.store.workflow_tables import Measure
from lvyue.workflows.actions.measures import record_by_rule
from lvyue.workflows.measures import MeasureKind

runner = CliRunner()
FIRST_END = "2024-02-16 08:00:00"  # Beijing: 2024-02-16 00:00 UTC, a period end
LATE = PAY + timedelta(days=4)


def _facts(path: Path, first: str = "C7", second: str = "C8") -> Path:
    path.mkdir()
    m = ClaimMarket()
    c7 = m.promote("次日达", creator=first)  # false in the week of Feb 9 only
    m.orders_of(c7, 12, signed=LATE)
    c8 = m.promote("次日达", creator=second)  # false two weeks running: climbs
    m.orders_of(c8, 12, signed=LATE)
    m.orders_of(c8, 12, pay=PAY + timedelta(days=7), signed=LATE + timedelta(days=7))
    own = m.promote("当日达", creator=None, merchant="m1", product="P-m1")
    m.orders_of(own, 12, signed=LATE, merchant="m1", product="P-m1")
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, path / f"{name}.csv")
    return path


def _register(service: ServiceWorld, creator_id: str) -> dict[str, str]:
    op = service.auth("operator")
    made = service.client.post("/creators", json={"creator_id": creator_id, "name": "达人"},
                               headers=op)  # fmt: skip
    assert made.status_code == 201, made.text
    body = {"account_id": f"acct-{creator_id}", "name": "达人", "role": "creator",
            "organisation": creator_id}  # fmt: skip
    account = service.client.post("/accounts", json=body, headers=op)
    return {"Authorization": f"Bearer {account.json()['token']}"}


def _record(facts: Path, url: str, as_of: str, periods: int) -> str:
    args = ["creators", "measures", str(facts), "--as-of", as_of, "--periods", str(periods),
            "--record", "--url", url]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_recorded_once_lifted_by_rule_later_and_seen_by_the_creator(
    service: ServiceWorld, tmp_path: Path
) -> None:
    facts = _facts(tmp_path / "facts")
    c7, c8 = _register(service, "C7"), _register(service, "C8")
    first = _record(facts, service.url, FIRST_END, 1)
    assert "recorded 3 measures (0 already recorded or unknown party)" in first
    again = _record(facts, service.url, FIRST_END, 1)
    assert "recorded 0 measures (3 already recorded or unknown party)" in again
    (mine,) = service.client.get("/creators/measures/recorded", headers=c7).json()
    assert (mine["kind"], mine["state"], mine["clause"]) == ("withdraw_sharing", "active",
                                                             "VF-9;CC-5")  # fmt: skip
    assert mine["start"] == "2024-02-16T08:00:00+08:00"
    assert mine["until"] == "2024-03-01T08:00:00+08:00"  # two clean periods later
    assert "次日达 (delivery): 12/12 orders (100.0%) did not get it" in mine["reason"]
    # three weeks on: C7 clean twice (lifted by rule), C8 false again (a heavier measure)
    later = _record(facts, service.url, "2024-03-01 08:00:00", 3)
    assert "recorded 1 measures" in later
    (lifted,) = service.client.get("/creators/measures/recorded", headers=c7).json()
    assert (lifted["state"], lifted["lifted_by"]) == ("lifted", "rule:VF-9")
    assert lifted["lifted_at"] == "2024-03-01T08:00:00+08:00"
    c8_rows = service.client.get("/creators/measures/recorded", headers=c8).json()
    assert [(r["kind"], r["state"]) for r in c8_rows] == [
        ("withdraw_sharing", "lifted"), ("withhold_commission", "active")]  # fmt: skip
    assert "false again after 1 period(s)" in c8_rows[1]["reason"]
    m1 = service.client.get("/creators/measures/recorded", headers=service.auth("m1.main"))
    assert [(r["merchant_id"], r["product_id"], r["kind"]) for r in m1.json()] == [
        ("m1", "P-m1", "delist_product")]  # fmt: skip
    shown = runner.invoke(app, ["creators", "recorded", "--url", service.url, "--creator", "C8"])
    assert shown.exit_code == 0, shown.output
    assert "withhold_commission" in shown.output and "rule:VF-9" in shown.output, shown.output


def test_an_operator_lifts_a_creators_measure_and_it_is_audited(
    service: ServiceWorld, tmp_path: Path
) -> None:
    facts = _facts(tmp_path / "facts", "C11", "C12")
    c8 = _register(service, "C12")
    _record(facts, service.url, FIRST_END, 1)
    (row,) = service.client.get("/creators/measures/recorded", headers=c8).json()
    op = service.auth("operator")
    lifted = service.client.post(f"/measures/{row['measure_id']}/lift", headers=op)
    assert lifted.status_code == 200, lifted.text
    assert (lifted.json()["creator_id"], lifted.json()["merchant_id"]) == ("C12", None)
    (seen,) = service.client.get("/creators/measures/recorded", headers=c8).json()
    assert (seen["state"], seen["lifted_by"]) == ("lifted", "operator")
    audit = service.client.get("/audit", params={"entity": "measure",
                               "entity_id": str(row["measure_id"])}, headers=op).json()  # fmt: skip
    assert [e["action"] for e in audit][:1] == ["measure.lift"]
    assert audit[0]["actor"] == "operator" and audit[0]["detail"]["creator_id"] == "C12"
    # a later run that would lift it by rule leaves the operator's lifting as it is
    _record(facts, service.url, "2024-03-08 08:00:00", 4)
    (still,) = [r for r in service.client.get("/creators/measures/recorded", headers=c8).json()
                if r["measure_id"] == row["measure_id"]]  # fmt: skip
    assert still["lifted_by"] == "operator"
    # the creator and a merchant do not reach the operator's lifting
    assert service.client.post(f"/measures/{row['measure_id']}/lift", headers=c8).status_code == 403


def test_two_recorders_at_once_record_a_creators_measure_once(service: ServiceWorld) -> None:
    _register(service, "C9")
    factory = make_session_factory(make_engine(service.url))
    first_recorded = threading.Event()
    results: dict[str, object] = {}
    start = datetime(2024, 2, 16, tzinfo=UTC)

    def record(name: str) -> None:
        with factory() as session:
            if name == "second":
                first_recorded.wait(30)
            row = record_by_rule(
                session, merchant_id=None, creator_id="C9", product_id=None,
                kind=MeasureKind.WARNING, reason="VF-9 test", clause="VF-9;CC-4", start=start,
                until=None, end=None, actor="rule:VF-9",
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
            select(func.count()).select_from(Measure).where(Measure.creator_id == "C9")
        )
    factory.kw["bind"].dispose()
    assert results == {"first": True, "second": False}
    assert count == 1


def test_a_merchant_measure_is_not_put_on_a_creator(service: ServiceWorld) -> None:
    from lvyue.workflows.machine import Refusal

    _register(service, "C10")
    factory = make_session_factory(make_engine(service.url))
    with factory() as session, pytest.raises(Refusal, match="not a measure on a creator"):
        record_by_rule(
            session, merchant_id=None, creator_id="C10", product_id=None,
            kind=MeasureKind.SUSPEND_STORE, reason="x", clause="VF-9", start=datetime.now(UTC),
            until=None, end=None, actor="rule:VF-9",
        )  # fmt: skip
    factory.kw["bind"].dispose()
