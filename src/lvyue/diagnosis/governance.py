"""Weekly governance (LD-5): route and outlet metrics per ISO week, warnings, control (管控).

Routes are carrier × origin city × destination city (线路); outlets are carrier × pickup
outlet (网点). A week's results are pure Ibis (``weekly``); the warning/control history is
replayed from the state directory (``state.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from lvyue.diagnosis.metrics import rows
from lvyue.diagnosis.thresholds import Thresholds
from lvyue.diagnosis.weeks import week_bounds

ROUTE_KEYS = ("carrier", "origin_city", "dest_city")
OUTLET_KEYS = ("carrier", "outlet")


def _rate(flag: ir.BooleanColumn) -> ir.FloatingScalar:
    known = flag.count()
    return ibis.ifelse(
        known > 0, flag.cast("int64").sum().cast("float64") / known.cast("float64"), ibis.null()
    )


def _in_week(shipments: ir.Table, week_no: int) -> ir.Table:
    """Shipments handed over in the ISO week (Beijing), as a range on epoch seconds."""
    lo, hi = week_bounds(week_no)
    return shipments.filter(shipments.anchor_s >= lo, shipments.anchor_s < hi)


def route_week(shipments: ir.Table, week_no: int) -> ir.Table:
    """Per route: volume, on-time rate (LD-5) and exception rate for one week."""
    t = _in_week(shipments, week_no)
    t = t.filter(t.carrier.notnull(), t.origin_city.notnull(), t.dest_city.notnull())
    return t.group_by(list(ROUTE_KEYS)).aggregate(
        volume=t.count(),
        on_time_rate=_rate(t.on_time),
        exception_rate=_rate(t.exception),
        transit_p90_h=t.transit_h.quantile(0.9),
    )


def outlet_week(shipments: ir.Table, week_no: int) -> ir.Table:
    """Per outlet: volume and share picked up within 24 h of shipping."""
    t = _in_week(shipments, week_no)
    t = t.filter(t.carrier.notnull(), t.outlet.notnull())
    return t.group_by(list(OUTLET_KEYS)).aggregate(
        volume=t.count(),
        pickup_24h_rate=_rate(t.picked_24h_ship),
        pickup_p90_h=t.pickup_from_ship_h.quantile(0.9),
    )


@dataclass(frozen=True)
class Finding:
    """One route or outlet in one week, with the thresholds it breached."""

    kind: str  # "route" | "outlet"
    key: str  # e.g. "zhongtong|杭州市|北京市"
    week_no: int
    volume: int
    values: dict[str, float | None]
    breached: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.breached)


def _breaches(kind: str, row: dict[str, Any], th: Thresholds) -> tuple[str, ...]:
    if row["volume"] < th.min_volume:  # too small a population to judge
        return ()
    out: list[str] = []
    if kind == "route":
        on_time, exc = row["on_time_rate"], row["exception_rate"]
        if on_time is not None and on_time < th.route_on_time_rate_min:
            out.append(f"on_time_rate {on_time:.1%} < {th.route_on_time_rate_min:.1%}")
        if exc is not None and exc > th.route_exception_rate_max:
            out.append(f"exception_rate {exc:.1%} > {th.route_exception_rate_max:.1%}")
    else:
        rate = row["pickup_24h_rate"]
        if rate is not None and rate < th.outlet_pickup_24h_rate_min:
            out.append(f"pickup_24h_rate {rate:.1%} < {th.outlet_pickup_24h_rate_min:.1%}")
    return tuple(out)


def findings(routes: pa.Table, outlets: pa.Table, week_no: int, th: Thresholds) -> list[Finding]:
    """Every route and outlet of the week with its breaches (empty when within standard)."""
    result: list[Finding] = []
    for kind, table, keys in (("route", routes, ROUTE_KEYS), ("outlet", outlets, OUTLET_KEYS)):
        for row in rows(table):
            values = {k: v for k, v in row.items() if k not in keys and k != "volume"}
            result.append(
                Finding(
                    kind=kind,
                    key="|".join(str(row[k]) for k in keys),
                    week_no=week_no,
                    volume=int(row["volume"]),
                    values=values,
                    breached=_breaches(kind, row, th),
                )
            )
    result.sort(key=lambda f: (f.kind, f.key))
    return result


def compute_week(
    shipments: ir.Table, week_no: int, th: Thresholds, backend: Any = None
) -> list[Finding]:
    """Run one week's route and outlet aggregations on ``backend`` (DuckDB by default)."""
    con = backend if backend is not None else ibis.duckdb.connect()
    routes = con.to_pyarrow(route_week(shipments, week_no))
    outlets = con.to_pyarrow(outlet_week(shipments, week_no))
    return findings(routes, outlets, week_no, th)
