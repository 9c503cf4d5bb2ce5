"""Facts → the Ibis tables VF-9's claim checks read: the orders that came from a promotion
(with what they actually got: ship time, first signed scan, confirmed receipt) and one row per
logistics claim found in a promotion's text (lvyue.model.claims).

Times are UTC epoch seconds before any engine sees them, so DuckDB and Spark agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from lvyue.diagnosis.source import build as build_shipments
from lvyue.diagnosis.source import epoch_column, register
from lvyue.indicators.errors import IndicatorError
from lvyue.indicators.source import orders_arrow
from lvyue.model.claims import parse_claims

CLAIMS_SCHEMA = pa.schema(
    [
        ("promotion_id", pa.string()),
        ("creator_id", pa.string()),
        ("merchant_id", pa.string()),
        ("product_id", pa.string()),
        ("published_s", pa.int64()),
        ("claim_no", pa.int64()),  # its place among the promotion's claims (0, 1, …)
        ("kind", pa.string()),
        ("label", pa.string()),
        ("phrase", pa.string()),
        ("event", pa.string()),
        ("pay_weight", pa.int64()),
        ("day_weight", pa.int64()),
        ("offset_s", pa.int64()),
    ]
)


@dataclass(frozen=True)
class ClaimSources:
    orders: ir.Table  # the indicator orders (receipt_s, …) + promotion_id, ship_s, signed_s
    claims: ir.Table  # CLAIMS_SCHEMA
    promotions: tuple[dict[str, Any], ...]  # the promotions table's rows (texts, authors)


def claims_arrow(promotions: pa.Table | None) -> tuple[pa.Table, tuple[dict[str, Any], ...]]:
    """One row per claim in each promotion's text; and the promotions as dicts."""
    if promotions is None or promotions.num_rows == 0:
        return CLAIMS_SCHEMA.empty_table(), ()
    published = epoch_column(promotions.column("published_at")).to_pylist()
    rows, promos = [], []
    for p, seconds in zip(promotions.to_pylist(), published, strict=True):
        promo = {k: p.get(k) for k in ("promotion_id", "creator_id", "merchant_id", "product_id")}
        promo |= {"text": p.get("text") or "", "published_s": seconds}
        promos.append(promo)
        moment = datetime.fromtimestamp(seconds, UTC)
        for no, c in enumerate(parse_claims(promo["text"], moment)):
            rows.append({**promo, "claim_no": no, "kind": c.kind, "label": c.label,
                         "phrase": c.phrase, "event": c.event, "pay_weight": c.pay_weight,
                         "day_weight": c.day_weight, "offset_s": c.offset_s})  # fmt: skip
    return pa.Table.from_pylist(rows, schema=CLAIMS_SCHEMA), tuple(promos)


def _orders(facts: Mapping[str, pa.Table | None]) -> pa.Table:
    orders = facts["orders"]
    assert orders is not None
    base = orders_arrow(orders)
    promotion = (
        orders.column("promotion_id").cast(pa.string())
        if "promotion_id" in orders.column_names
        else pa.nulls(orders.num_rows, pa.string())
    )
    return base.append_column("promotion_id", promotion)


def build(facts: Mapping[str, pa.Table | None], backend: Any = None) -> ClaimSources:
    """The claim sources over Arrow tables (``backend`` matters only for Spark)."""
    if facts.get("orders") is None:
        raise IndicatorError("facts: the orders table is required")
    o = register(_orders(facts), "lvyue_cc_orders", backend)
    o = o.filter(o.promotion_id.notnull())
    s = build_shipments(facts, backend=backend).shipments
    got = s.select("order_id", "ship_s", "signed_s")
    joined = o.left_join(got, o.order_id == got.order_id).select(
        *[o[c] for c in o.columns],
        ship_s=got.ship_s,
        signed_s=got.signed_s,
    )
    claims, promos = claims_arrow(facts.get("promotions"))
    return ClaimSources(joined, register(claims, "lvyue_cc_claims", backend), promos)
