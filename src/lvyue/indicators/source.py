"""Facts → the Ibis tables the indicators read (VF-8): orders, after-sales, reviews,
complaints and the diagnosis's shipments (for the experience score's logistics part).

Times become UTC epoch seconds in Arrow before any engine sees them (as lvyue.diagnosis does),
so DuckDB and Spark give the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.diagnosis.source import build as build_shipments
from lvyue.diagnosis.source import epoch_column, register
from lvyue.indicators.errors import IndicatorError


@dataclass(frozen=True)
class Sources:
    orders: ir.Table  # order_id, merchant_id, product_id, industry, category, merchant_type,
    # pay_s, receipt_s
    after_sales: ir.Table  # order_id, type, reason, created_s
    reviews: ir.Table  # order_id, rating, created_s
    complaints: ir.Table  # order_id, reason, created_s
    shipments: ir.Table  # lvyue.diagnosis.source's shipments (pickup/on-time/complaint flags)
    span: tuple[int, int]  # first and last pay time (epoch s) in the facts


def _text(table: pa.Table, name: str) -> pa.Array | pa.ChunkedArray:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    column = table.column(name)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _times(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.int64())
    return epoch_column(table.column(name))


def orders_arrow(orders: pa.Table) -> pa.Table:
    for required in ("order_id", "merchant_id", "pay_time"):
        if required not in orders.column_names:
            raise IndicatorError(f"orders: missing column {required!r}")
    category = _text(orders, "category")
    industry = (
        _text(orders, "industry")
        if "industry" in orders.column_names
        else pc.list_element(pc.split_pattern(category, ">"), 0)
    )
    return pa.table(
        {
            "order_id": _text(orders, "order_id"),
            "merchant_id": _text(orders, "merchant_id"),
            "product_id": _text(orders, "product_id"),
            "industry": industry,
            "category": category,
            "merchant_type": _text(orders, "merchant_type"),
            "pay_s": _times(orders, "pay_time"),
            "receipt_s": _times(orders, "confirmed_receipt_time"),
        }
    )


def events_arrow(table: pa.Table | None, columns: tuple[str, ...]) -> pa.Table:
    """``order_id``, the given text/number columns and ``created_s``; empty when absent."""
    if table is None or table.num_rows == 0:
        fields = [("order_id", pa.string())]
        fields += [(c, pa.float64() if c == "rating" else pa.string()) for c in columns]
        return pa.schema([*fields, ("created_s", pa.int64())]).empty_table()
    data: dict[str, Any] = {"order_id": _text(table, "order_id")}
    for c in columns:
        data[c] = pc.cast(table.column(c), pa.float64()) if c == "rating" else _text(table, c)
    data["created_s"] = _times(table, "created_at")
    return pa.table(data)


def build(facts: Mapping[str, pa.Table | None], backend: Any = None) -> Sources:
    """The indicator sources over Arrow tables (``backend`` matters only for Spark)."""
    orders = facts.get("orders")
    if orders is None:
        raise IndicatorError("facts: the orders table is required")
    o = orders_arrow(orders)
    pays = pc.min_max(o.column("pay_s"))
    span = (int(pays["min"].as_py() or 0), int(pays["max"].as_py() or 0))
    shipments = build_shipments(facts, backend=backend).shipments
    return Sources(
        orders=register(o, "lvyue_ind_orders", backend),
        after_sales=register(
            events_arrow(facts.get("after_sales"), ("type", "reason")), "lvyue_ind_as", backend
        ),
        reviews=register(events_arrow(facts.get("reviews"), ("rating",)), "lvyue_ind_rv", backend),
        complaints=register(
            events_arrow(facts.get("complaints"), ("reason",)), "lvyue_ind_cp", backend
        ),
        shipments=shipments,
        span=span,
    )


def load_tables(path: Path) -> dict[str, pa.Table | None]:
    """A facts directory read and validated by lvyue.facts (bad rows stop it, named)."""
    from lvyue.facts import load_facts

    facts = load_facts(path)
    return {
        "orders": facts.orders,
        "tracking": facts.tracking,
        "after_sales": facts.after_sales,
        "reviews": facts.reviews,
        "complaints": facts.complaints,
        "promotions": facts.promotions,  # the creators' claims (VF-9) read these
    }
