"""Topic analysis (LD-6, LD-7): the merchant against same-industry merchants.

Percentile rank per metric (share of peers the merchant does better than, ties half), grade
(excellent above P75, normal P50–P75, lagging below P50), peer targets at P50/P75 of
performance, and lane × carrier detail with concrete suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np

from lvyue.diagnosis.metrics import BY_NAME, grouped, rows

# Metrics compared among peers: (aggregate column, metric definition name).
PEER_METRICS: tuple[tuple[str, str], ...] = (
    ("pickup_from_pay_h_avg", "pickup_from_pay_h"),
    ("pickup_from_ship_h_avg", "pickup_from_ship_h"),
    ("transit_h_avg", "transit_h"),
    ("pickup_24h_rate", "pickup_24h_rate"),
    ("on_time_rate", "on_time_rate"),
    ("exception_rate", "exception_rate"),
    ("complaint_rate", "complaint_rate"),
    ("logistics_return_rate", "logistics_return_rate"),
)
LANE_KEYS = ("origin_city", "dest_city", "carrier")


@dataclass(frozen=True)
class PeerStanding:
    column: str
    value: float | None
    percentile: float | None  # 0..100, higher is better
    grade: str  # excellent | normal | lagging | n/a
    peer_p50: float | None  # performance P50/P75: the value half / three quarters of peers miss
    peer_p75: float | None
    peers: int


@dataclass(frozen=True)
class LaneDetail:
    origin_city: str
    dest_city: str
    carrier: str
    volume: int
    values: dict[str, float | None]
    peer_values: dict[str, float | None]  # same lane × carrier among peers


@dataclass(frozen=True)
class Suggestion:
    metric: str
    text: str
    lane: tuple[str, str] | None = None


def higher_is_better(column: str) -> bool:
    return BY_NAME[dict(PEER_METRICS)[column]].higher_is_better


def grade(percentile: float | None) -> str:
    if percentile is None:
        return "n/a"
    if percentile > 75:
        return "excellent"
    return "normal" if percentile >= 50 else "lagging"


def merchant_table(shipments: ir.Table, min_volume: int) -> ir.Table:
    """Per merchant (with industry): volume and the peer metrics; merchants below
    ``min_volume`` shipments are left out of the peer population."""
    shipped = shipments.filter(shipments.shipped)
    names = sorted({name for _, name in PEER_METRICS} | {"settlement_rate"})
    table = grouped(shipped, ["industry", "merchant_id"], names)
    return table.filter(table.volume >= min_volume)


def standing(merchant: dict[str, Any], peers: list[dict[str, Any]]) -> list[PeerStanding]:
    """The merchant's percentile, grade and peer targets for each metric."""
    out: list[PeerStanding] = []
    others = [p for p in peers if p["merchant_id"] != merchant["merchant_id"]]
    for column, _ in PEER_METRICS:
        value = merchant.get(column)
        sample = np.array([p[column] for p in others if p.get(column) is not None], dtype=float)
        up = higher_is_better(column)
        if value is None or sample.size == 0:
            out.append(PeerStanding(column, value, None, "n/a", None, None, int(sample.size)))
            continue
        better = (sample < value) if up else (sample > value)
        ties = sample == value
        pct = 100.0 * (better.sum() + 0.5 * ties.sum()) / sample.size
        p50, p75 = (float(np.quantile(sample, q if up else 1 - q)) for q in (0.5, 0.75))
        out.append(PeerStanding(column, value, pct, grade(pct), p50, p75, int(sample.size)))
    return out


def lane_detail(same_industry: ir.Table, merchant_id: str) -> ir.Table:
    """Lane × carrier metrics of the merchant beside the same lane × carrier among its
    industry peers (``same_industry``: shipments of the merchant's industry)."""
    shipped = same_industry.filter(same_industry.shipped)
    names = ["pickup_from_pay_h", "on_time_rate", "exception_rate"]
    mine = grouped(shipped.filter(shipped.merchant_id == merchant_id), LANE_KEYS, names)
    peers = grouped(shipped.filter(shipped.merchant_id != merchant_id), LANE_KEYS, names)
    peers = peers.rename({f"peer_{c}": c for c in peers.columns if c not in LANE_KEYS})
    return mine.left_join(peers, list(LANE_KEYS)).select(
        *[mine[c] for c in mine.columns],
        *[peers[c] for c in peers.columns if c.startswith("peer_")],
    )


def lanes_from(table: Any) -> list[LaneDetail]:
    out = []
    for r in rows(table):
        values = {k: v for k, v in r.items() if k not in LANE_KEYS and not k.startswith("peer_")}
        peer = {k[5:]: v for k, v in r.items() if k.startswith("peer_")}
        out.append(
            LaneDetail(
                r["origin_city"], r["dest_city"], r["carrier"], int(r["volume"]), values, peer
            )
        )
    return sorted(out, key=lambda d: -d.volume)


def suggestions(
    lanes: list[LaneDetail], standings: list[PeerStanding], min_volume: int
) -> list[Suggestion]:
    """Concrete, numeric suggestions for weak items (lagging metrics, lanes behind peers)."""
    out: list[Suggestion] = []
    for s in standings:
        if s.grade == "lagging" and s.peer_p50 is not None and s.value is not None:
            label = BY_NAME[dict(PEER_METRICS)[s.column]].label
            out.append(
                Suggestion(
                    s.column,
                    f"{label}: yours {_fmt(s.column, s.value)}, peer median "
                    f"{_fmt(s.column, s.peer_p50)}, top quarter {_fmt(s.column, s.peer_p75)}",
                )
            )
    by_lane: dict[tuple[str, str], list[LaneDetail]] = {}
    for lane in lanes:
        by_lane.setdefault((lane.origin_city, lane.dest_city), []).append(lane)
    for lane in lanes:
        if lane.volume < min_volume:
            continue
        mine_h = lane.values.get("pickup_from_pay_h_avg")
        peer_h = lane.peer_values.get("pickup_from_pay_h_avg")
        if mine_h is not None and peer_h is not None and mine_h - peer_h >= 4:
            out.append(
                Suggestion(
                    "pickup_from_pay_h_avg",
                    f"{lane.origin_city}→{lane.dest_city}: {lane.carrier} picks up "
                    f"{mine_h - peer_h:.1f} h sooner among peers ({peer_h:.1f} h vs your "
                    f"{mine_h:.1f} h): hand parcels over earlier",
                    (lane.origin_city, lane.dest_city),
                )
            )
        mine_ot = lane.values.get("on_time_rate")
        peer_ot = lane.peer_values.get("on_time_rate")
        if mine_ot is not None and peer_ot is not None and peer_ot - mine_ot >= 0.05:
            out.append(
                Suggestion(
                    "on_time_rate",
                    f"{lane.origin_city}→{lane.dest_city}: {lane.carrier} is on time "
                    f"{mine_ot:.0%} for you vs {peer_ot:.0%} for peers",
                    (lane.origin_city, lane.dest_city),
                )
            )
    return out


def _fmt(column: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} h" if column.endswith("_h_avg") else f"{value:.1%}"
