"""The metric catalogue (docs/metrics.md) as Ibis aggregations over the shipments table.

Every aggregation is null-safe: an empty population gives null (shown as "n/a"), never NaN
or a division by zero; populations under the minimum volume are reported as too small.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

Kind = Literal["duration", "rate"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # Chinese term used on the merchant console
    kind: Kind
    unit: str
    higher_is_better: bool


# LD-3, LD-5, LD-6: durations (hours; average, P50, P90) and rates (share 0..1).
METRICS: tuple[Metric, ...] = (
    Metric("pickup_from_pay_h", "揽收时长(支付→揽收)", "duration", "h", False),
    Metric("pickup_from_ship_h", "揽收时长(发货→揽收)", "duration", "h", False),
    Metric("transit_h", "揽签时长", "duration", "h", False),
    Metric("pickup_24h_rate", "24小时揽收率", "rate", "share", True),
    Metric("pickup_36h_rate", "36小时揽收率", "rate", "share", True),
    Metric("pickup_48h_rate", "48小时揽收率", "rate", "share", True),
    Metric("pickup_24h_ship_rate", "发货后24小时揽收率", "rate", "share", True),
    Metric("on_time_rate", "线路时效达成率", "rate", "share", True),
    Metric("exception_rate", "异常率", "rate", "share", False),
    Metric("complaint_rate", "物流投诉率", "rate", "share", False),
    Metric("logistics_return_rate", "物流原因退货率", "rate", "share", False),
    Metric("settlement_rate", "结算率", "rate", "share", True),
)
BY_NAME: Mapping[str, Metric] = {m.name: m for m in METRICS}
DURATIONS = tuple(m.name for m in METRICS if m.kind == "duration")

_RATE_OF: Mapping[str, str] = {  # rate metric → boolean column of the shipments table
    "pickup_24h_rate": "picked_24h",
    "pickup_36h_rate": "picked_36h",
    "pickup_48h_rate": "picked_48h",
    "pickup_24h_ship_rate": "picked_24h_ship",
    "on_time_rate": "on_time",
    "exception_rate": "exception",
    "complaint_rate": "complained",
    "logistics_return_rate": "logistics_return",
    "settlement_rate": "settled",
}


def _rate(flag: ir.BooleanColumn) -> ir.FloatingScalar:
    """Share of true among known values; null (not NaN) when none is known."""
    known = flag.count()
    hits = flag.cast("int64").sum()
    return ibis.ifelse(known > 0, hits.cast("float64") / known.cast("float64"), ibis.null())


def aggregations(t: ir.Table, names: Iterable[str] | None = None) -> dict[str, ir.Scalar]:
    """Named aggregations: ``volume``, ``<duration>_avg/_p50/_p90`` and ``<rate>``."""
    wanted = [BY_NAME[n] for n in names] if names is not None else list(METRICS)
    aggs: dict[str, ir.Scalar] = {"volume": t.count()}
    for metric in wanted:
        if metric.kind == "duration":
            col = t[metric.name]
            aggs[f"{metric.name}_avg"] = col.mean()
            aggs[f"{metric.name}_p50"] = col.quantile(0.5)
            aggs[f"{metric.name}_p90"] = col.quantile(0.9)
        else:
            aggs[metric.name] = _rate(t[_RATE_OF[metric.name]])
    return aggs


def grouped(t: ir.Table, keys: Sequence[str], names: Iterable[str] | None = None) -> ir.Table:
    return t.group_by(list(keys)).aggregate(**aggregations(t, names))


def clean(value: Any) -> Any:
    """None for NaN/inf so nothing downstream prints NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rows(table: Any) -> list[dict[str, Any]]:
    """Arrow table → list of dicts with NaN replaced by None."""
    return [{k: clean(v) for k, v in row.items()} for row in table.to_pylist()]


def fmt(name: str, value: float | None) -> str:
    """Human text of one metric value; "n/a" for a missing one."""
    if value is None:
        return "n/a"
    base = name.rsplit("_", 1)[0] if name.endswith(("_avg", "_p50", "_p90")) else name
    metric = BY_NAME.get(base)
    if metric is not None and metric.kind == "rate":
        return f"{value:.1%}"
    return f"{value:.1f} h"
