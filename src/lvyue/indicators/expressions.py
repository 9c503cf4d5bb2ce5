"""VF-8's indicators as Ibis expressions: one definition, run on DuckDB or Spark.

A *period* is a row ``(period_end, pay_start, pay_end)``: the orders paid in
``[pay_start, pay_end)``, with what happened to them (after-sales, complaints, reviews) before
``period_end``. Rates are shares of those orders (negative reviews: of their reviews):

- defect_rate 残次率: orders with an after-sales request whose reason is ``defect``
- not_as_described_rate 描述不符率: … reason ``not_as_described``
- product_return_rate 品退率: … a quality reason (either) where the goods went back
  (``return_refund`` or ``exchange``): 品质退货
- complaint_rate 投诉率: orders with at least one complaint about the goods or the service
  (any reason but ``logistics``: logistics complaints are the diagnosis's 物流投诉率, counted
  in the experience score's logistics part, not twice)
- negative_review_rate 差评率: reviews of 1 or 2 stars among the orders' reviews
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from lvyue.diagnosis.metrics import aggregations
from lvyue.diagnosis.source import register
from lvyue.indicators.source import Sources
from lvyue.rulebook import Clause

RATES = (
    "defect_rate",
    "not_as_described_rate",
    "product_return_rate",
    "complaint_rate",
    "negative_review_rate",
)
QUALITY_REASONS = ("defect", "not_as_described")
GOODS_BACK = ("return_refund", "exchange")
NEGATIVE_STARS = 2  # 差评: 1–2 stars (Douyin shows 1–2 stars as 差评)
LOGISTICS = ("pickup_24h_rate", "pickup_36h_rate", "pickup_48h_rate", "on_time_rate")
PERIOD_KEYS = ("period_end", "pay_start", "pay_end")


def periods(rows: Sequence[tuple[int, int, int]], backend: Any = None) -> ir.Table:
    """``(period_end, pay_start, pay_end)`` epoch seconds, one row per period."""
    ends, starts, pay_ends = zip(*rows, strict=True) if rows else ((), (), ())
    table = pa.table(
        {
            "period_end": pa.array(ends, pa.int64()),
            "pay_start": pa.array(starts, pa.int64()),
            "pay_end": pa.array(pay_ends, pa.int64()),
        }
    )
    return register(table, "lvyue_ind_periods", backend)


def in_scope(orders: ir.Table, clause: Clause | None) -> ir.Table:
    """Only the orders ``clause`` covers (merchant type, category subtree, pay-time window);
    all orders when there is no clause."""
    if clause is None:
        return orders
    keep = []
    scope, window = clause.scope, clause.effective
    if scope.merchant_types is not None:
        keep.append(orders.merchant_type.isin(sorted(m.value for m in scope.merchant_types)))
    if scope.categories is not None:
        keep.append(
            ibis.or_(
                *[
                    (orders.category == c) | orders.category.startswith(c + ">")
                    for c in scope.categories
                ]
            )
        )
    if window.start is not None:
        keep.append(orders.pay_s >= int(window.start.timestamp()))
    if window.end is not None:
        keep.append(orders.pay_s < int(window.end.timestamp()))
    return orders.filter(*keep) if keep else orders


def _order_events(src: Sources, orders: ir.Table) -> ir.Table:
    """One row per order: when its first defect / not-as-described / quality-return request
    and its first complaint were made (null: never)."""
    a, c = src.after_sales, src.complaints
    requests = a.group_by("order_id").aggregate(
        defect_s=a.created_s.min(where=a.reason == "defect"),
        nad_s=a.created_s.min(where=a.reason == "not_as_described"),
        return_s=a.created_s.min(where=a.reason.isin(QUALITY_REASONS) & a.type.isin(GOODS_BACK)),
    )
    complaints = c.group_by("order_id").aggregate(
        complaint_s=c.created_s.min(where=c.reason != "logistics")
    )
    joined = orders.left_join(requests, orders.order_id == requests.order_id).left_join(
        complaints, orders.order_id == complaints.order_id
    )
    return joined.select(
        *[orders[col] for col in orders.columns],
        defect_s=requests.defect_s,
        nad_s=requests.nad_s,
        return_s=requests.return_s,
        complaint_s=complaints.complaint_s,
    )


def _before(moment: ir.IntegerValue, end: ir.IntegerValue) -> ir.BooleanValue:
    flag: ir.BooleanValue = (moment < end).fill_null(False)
    return flag


def _share(flag: ir.BooleanColumn, n: ir.IntegerScalar) -> ir.FloatingScalar:
    hits = flag.cast("int64").sum().cast("float64")
    share: ir.FloatingScalar = ibis.ifelse(n > 0, hits / n.cast("float64"), ibis.null())
    return share


def rates(src: Sources, period: ir.Table, keys: Sequence[str], scope: Clause | None) -> ir.Table:
    """Per period and ``keys`` (``merchant_id``, ``industry`` and maybe ``product_id``):
    ``orders``, ``reviews`` and every rate of RATES."""
    orders = in_scope(src.orders, scope)
    events = _order_events(src, orders)
    o = events.join(period, [events.pay_s >= period.pay_start, events.pay_s < period.pay_end])
    o = o.mutate(
        defect=_before(o.defect_s, o.period_end),
        nad=_before(o.nad_s, o.period_end),
        ret=_before(o.return_s, o.period_end),
        complained=_before(o.complaint_s, o.period_end),
    )
    group = [*PERIOD_KEYS, *keys]
    n = o.count()
    main = o.group_by(group).aggregate(
        orders=n,
        defect_rate=_share(o.defect, n),
        not_as_described_rate=_share(o.nad, n),
        product_return_rate=_share(o.ret, n),
        complaint_rate=_share(o.complained, n),
    )
    r = src.reviews
    rv = o.select(*group, "order_id").join(r, "order_id")
    rv = rv.filter(rv.created_s < rv.period_end)
    k = rv.count()
    per = rv.group_by(group).aggregate(
        reviews=k, negative_review_rate=_share(rv.rating <= NEGATIVE_STARS, k)
    )
    joined = main.left_join(per, [main[g] == per[g] for g in group])
    return joined.select(
        *[main[c] for c in main.columns],
        reviews=per.reviews.fill_null(0),
        negative_review_rate=per.negative_review_rate,
    )


def logistics(src: Sources, period: ir.Table, scope: Clause | None) -> ir.Table:
    """Per period and merchant: the rates the diagnosis's store sub-score reads (shipped orders
    paid in the period; lvyue.diagnosis.metrics), for the experience score."""
    s = src.shipments
    if scope is not None:
        ids = in_scope(src.orders, scope).select("order_id")
        s = s.semi_join(ids, s.order_id == ids.order_id)
    s = s.filter(s.shipped)
    j = s.join(period, [s.pay_s >= period.pay_start, s.pay_s < period.pay_end])
    aggs = aggregations(j, [*LOGISTICS, "complaint_rate"])
    aggs.pop("volume")
    aggs["logistics_complaint_rate"] = aggs.pop("complaint_rate")
    return j.group_by([*PERIOD_KEYS, "merchant_id"]).aggregate(**aggs)
