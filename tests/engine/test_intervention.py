"""VF-8a: a platform intervention in after-sales (平台介入) is said on the order's settlement
verdict, on both engine paths (the ``evaluate`` fixture holds online = DuckDB), and on Spark
through the same expressions; only where the rulebook allows it (the festival's flowers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import FLOWERS, FOOD, at, order, write_dir

from lvyue.engine import evaluate_batch, evaluate_order, iter_order_facts, verdicts_table
from lvyue.facts import load_facts
from lvyue.model.time import parse_instant

AS_OF = "2024-06-01 00:00:00"


def _order(oid: str, paid: str, category: str = FLOWERS) -> dict[str, Any]:
    return order(oid, paid, category=category, ship_time="2024-02-15 10:00:00",
                 confirmed_receipt_time="2024-02-18 10:00:00")  # fmt: skip


def _request(oid: str, kind: str | None, when: str = "2024-02-19 10:00:00") -> dict[str, Any]:
    row = {"aftersale_id": f"A-{oid}", "order_id": oid, "type": "return_refund",
           "created_at": "2024-02-18 12:00:00"}  # fmt: skip
    if kind is not None:
        row |= {"intervention": kind, "intervened_at": when}
    return row


ORDERS = [
    _order("first", "2024-02-08 00:00:00"),
    _order("last", "2024-02-14 23:59:59"),
    _order("before", "2024-02-07 23:59:59"),  # paid outside VF-8's window
    _order("after", "2024-02-15 00:00:00"),
    _order("food", "2024-02-10 10:00:00", FOOD),  # not a flower product
    _order("shipping", "2024-02-10 10:00:00"),
    _order("none", "2024-02-10 10:00:00"),
    _order("later", "2024-02-10 10:00:00"),  # intervened after the evaluation instant
]
REQUESTS = [
    _request("first", "refund_only"),
    _request("last", "return_refund"),
    _request("before", "refund_only"),
    _request("after", "refund_only"),
    _request("food", "refund_only"),
    _request("shipping", "return_shipping_merchant"),
    _request("none", None),
    _request("later", "refund_only", "2024-07-01 00:00:00"),
]


def test_intervention_is_said_on_the_settlement_where_vf8_allows_it(evaluate: Any) -> None:
    v = evaluate(AS_OF, orders=ORDERS, after_sales=REQUESTS)

    def got(oid: str) -> tuple[str, str, Any]:
        row = v[oid, "", "settlement"]
        assert row["status"] == "scheduled"  # the date stands: the seeds move no date for it
        return row["reason"], row["clauses"], row["done_at"]

    vf6 = at("2024-03-19 10:00:00")  # VF-6: 30 d after receipt, unchanged
    assert v["first", "", "settlement"]["deadline"] == vf6
    when = at("2024-02-19 10:00:00")
    assert got("first") == ("intervened_refund", "VF-6;VF-8a", when)
    assert got("last") == ("intervened_refund", "VF-6;VF-8a", when)
    assert got("shipping") == ("intervened_shipping", "VF-6;VF-8a", when)
    assert got("before") == ("scheduled", "DR-5a", None)  # outside the window: nothing
    assert got("after") == ("scheduled", "DR-5a", None)
    assert got("food") == ("scheduled", "DR-5a", None)
    assert got("none") == ("scheduled", "VF-6", None)
    assert got("later") == ("scheduled", "VF-6", None)  # not yet as of the instant
    # no other verdict changes: an intervention is no violation by itself
    plain = evaluate(AS_OF, orders=ORDERS, after_sales=[_request(o["order_id"], None)
                                                        for o in ORDERS])  # fmt: skip
    assert {k: r for k, r in v.items() if k[2] != "settlement"} == {
        k: r for k, r in plain.items() if k[2] != "settlement"
    }


def test_half_an_intervention_is_refused_and_counts_for_nothing(evaluate: Any) -> None:
    """The row model (the service's feeds) refuses one without the other; a facts file that
    holds one anyway changes no verdict (the engine reads an intervention at its instant)."""
    from pydantic import ValidationError

    from lvyue.model.rows import AfterSaleRow

    half = _request("first", "refund_only") | {"intervened_at": None}
    with pytest.raises(ValidationError, match="intervened_at go together"):
        AfterSaleRow.model_validate(half)
    v = evaluate(AS_OF, orders=[ORDERS[0]], after_sales=[half | {"intervened_at": ""}])
    assert v["first", "", "settlement"]["reason"] == "scheduled"


@pytest.mark.spark
def test_spark_says_the_same(tmp_path: Path, rulebook: Any, spark: Any) -> None:
    facts = load_facts(write_dir(tmp_path / "f", orders=ORDERS, after_sales=REQUESTS))
    moment = parse_instant(AS_OF)
    on_spark = evaluate_batch(facts, moment, rulebook, backend="spark", spark=spark)
    online = verdicts_table(
        [x for of in iter_order_facts(facts) for x in evaluate_order(of, moment, rulebook)]
    )
    assert on_spark.to_pylist() == online.to_pylist()
    assert "intervened_shipping" in on_spark.column("reason").to_pylist()


def test_lvyue_explain_shows_the_intervention(tmp_path: Path, monkeypatch: Any) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from lvyue.cli.main import app

    monkeypatch.setattr("lvyue.cli.engine.console", Console(width=250))
    root = write_dir(tmp_path / "f", orders=ORDERS, after_sales=REQUESTS)
    result = CliRunner().invoke(app, ["explain", "shipping", "--facts", str(root),
                                      "--as-of", AS_OF])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "平台介入 A-shipping: return_shipping_merchant" in result.output  # the timeline
    assert "the refund and the return shipping come from the merchant's account" in result.output
    assert "VF-6;VF-8a" in result.output
