"""Small hand-written facts directories for the engine tests, and a helper that evaluates them
on both paths (online and batch on DuckDB) and insists they agree."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from lvyue.engine import evaluate_batch, evaluate_order, iter_order_facts, verdicts_table
from lvyue.facts import load_facts
from lvyue.model.time import parse_instant
from lvyue.rulebook import load_rulebook

ORDER_COLUMNS = [
    "order_id", "merchant_id", "merchant_type", "category", "ship_mode", "pay_time",
    "promised_ship_time", "delayed_shipping", "ship_time", "carrier", "waybill",
    "confirmed_receipt_time", "inspection_code", "festival_open", "established_store",
    "settlement_extended_penalty", "product_id", "pre_inspection", "agreed_ship_time",
    "activity", "activity_ship_deadline", "cross_border_mode", "penalty_settlement_time",
]  # fmt: skip
COLUMNS = {
    "orders": ORDER_COLUMNS,
    "tracking": ["carrier", "waybill", "time", "kind"],
    "after_sales": ["aftersale_id", "order_id", "type", "created_at", "merchant_handled_at",
                    "return_shipped_at", "merchant_received_at", "return_signed_at",
                    "refunded_at", "merchant_decision", "intervention", "intervened_at"],
    "reports": ["report_id", "merchant_id", "type", "status", "order_ids", "new_deadline"],
    "inspections": ["inspection_code", "merchant_id", "result", "inspected_at"],
}  # fmt: skip
FOOD = "食品饮料>零食"
FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
PHONE = "二手商品>二手3C数码>手机"


def order(order_id: str, pay_time: str, **kw: Any) -> dict[str, Any]:
    """An order row with sensible defaults (domestic spot food, merchant m1)."""
    row = {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
           "category": FOOD, "ship_mode": "spot", "pay_time": pay_time,
           "delayed_shipping": "false", "carrier": "zhongtong",
           "waybill": f"W-{order_id}"}  # fmt: skip
    row.update(kw)
    return row


def scan(order_id: str, time: str, kind: str = "pickup") -> dict[str, Any]:
    return {"carrier": "zhongtong", "waybill": f"W-{order_id}", "time": time, "kind": kind}


def write_dir(root: Path, **tables: list[dict[str, Any]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (root / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS[name])
            writer.writeheader()
            writer.writerows(rows)
    return root


Evaluate = Callable[..., dict[tuple[str, str, str], dict[str, Any]]]


@pytest.fixture(scope="session")
def rulebook() -> Any:
    rb = load_rulebook()
    rb.parameter_table()
    return rb


@pytest.fixture
def evaluate(tmp_path: Path, rulebook: Any) -> Evaluate:
    """evaluate(as_of, orders=[...], tracking=[...], ...) -> {(order, request, check): row}.

    Runs the online path and the DuckDB batch path and asserts they give the same verdicts.
    """
    counter = iter(range(1000))

    def run(
        as_of: str, **tables: list[dict[str, Any]]
    ) -> dict[tuple[str, str, str], dict[str, Any]]:
        root = write_dir(tmp_path / f"facts{next(counter)}", **tables)
        facts = load_facts(root)
        moment = parse_instant(as_of)
        online = verdicts_table(
            [v for of in iter_order_facts(facts) for v in evaluate_order(of, moment, rulebook)]
        )
        batch = evaluate_batch(facts, moment, rulebook)
        assert batch.to_pylist() == online.to_pylist()
        return {(r["order_id"], r["aftersale_id"], r["check"]): r for r in batch.to_pylist()}

    return run


def at(text: str) -> datetime:
    return parse_instant(text)
