"""A merchant's full logistics diagnosis (LD-1..LD-11): the page a merchant's operations
lead opens under Orders › Shipping management › Logistics diagnosis (LD-2).

Flow: shipments (Ibis) → merchant metrics, carrier capability, peer standing, lane detail →
settlement gain, sub-score, recommendations. Below ``min_history_orders`` shipped orders the
merchant gets the cold-start state (LD-10); topic analysis needs the rollout flag (LD-11).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from lvyue.diagnosis import conversion, growth, peers, settlement
from lvyue.diagnosis.capability import carrier_capability
from lvyue.diagnosis.conversion import ConversionGain
from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.governance import OUTLET_KEYS, ROUTE_KEYS
from lvyue.diagnosis.metrics import aggregations, rows
from lvyue.diagnosis.period import Period
from lvyue.diagnosis.score import SubScore, sub_score
from lvyue.diagnosis.state import EntityState
from lvyue.diagnosis.thresholds import Thresholds
from lvyue.model.cells import cell_is_true

COLD_START_ADVICE = (
    growth.Recommendation(
        "carrier_recommendation", "pick a carrier recommended for your origin city"
    ),
    growth.Recommendation("cloud_warehouse", "a cloud warehouse ships on your behalf from day one"),
)
LANE_MIN_VOLUME = 10
SETTLEMENT_COLUMNS = (
    "merchant_id",
    "industry",
    "amount",
    "pickup_from_ship_h",
    "elapsed_h",
    "standard_h",
    "exception",
    "settled",
)


@dataclass(frozen=True)
class TopicAnalysis:
    """LD-6/LD-7: standing among same-industry peers, lane detail, suggestions, gain."""

    peer_count: int
    standings: list[peers.PeerStanding]
    lanes: list[peers.LaneDetail]
    suggestions: list[peers.Suggestion]
    gain: dict[str, settlement.Gain]  # "p50" / "p75" → projected gain
    projected_score: dict[str, SubScore]
    note: str = ""
    conversion: dict[str, ConversionGain] = field(default_factory=dict)  # LD-1
    conversion_note: str = ""  # why conversion is not estimated, if it is not


@dataclass(frozen=True)
class ControlledUsage:
    kind: str
    key: str
    shipments: int
    since: str


@dataclass(frozen=True)
class Diagnosis:
    merchant_id: str
    period: Period
    industry: str | None
    state: str  # "ready" | "cold_start"
    volume: int
    summary: dict[str, Any] = field(default_factory=dict)
    capability: list[dict[str, Any]] = field(default_factory=list)
    score: SubScore | None = None
    topic: TopicAnalysis | None = None
    topic_status: str = "not_enabled"  # enabled | not_enabled | cold_start | no_peers
    controlled: list[ControlledUsage] = field(default_factory=list)
    recommendations: list[growth.Recommendation] = field(default_factory=list)


def _enabled(merchants: pa.Table, merchant_id: str) -> bool:
    """LD-11 rollout flag; a merchant not listed (or no flag column) is not enabled."""
    if "topic_analysis_enabled" not in merchants.column_names:
        return False
    for row in merchants.select(["merchant_id", "topic_analysis_enabled"]).to_pylist():
        if row["merchant_id"] == merchant_id:
            value = row["topic_analysis_enabled"]
            return cell_is_true(value)  # the one flag vocabulary (model.cells)
    return False


def diagnose(
    shipments: ir.Table,
    merchants: pa.Table,
    merchant_id: str,
    period: Period,
    th: Thresholds,
    controlled: dict[tuple[str, str], EntityState] | None = None,
    backend: Any = None,
    conversion_table: pa.Table | None = None,
) -> Diagnosis:
    """``conversion_table``: visitors and buyers per merchant over the facts' span (LD-1);
    without it the conversion effect is reported unavailable."""
    con = backend if backend is not None else ibis.duckdb.connect()
    scoped = period.filter(shipments)
    mine = scoped.filter(scoped.merchant_id == merchant_id)
    head = rows(
        con.to_pyarrow(
            mine.aggregate(
                orders=mine.count(),
                shipped=mine.shipped.cast("int64").sum(),
                industry=mine.industry.arbitrary(),
            )
        )
    )[0]
    if not head["orders"]:
        raise DiagnosisError(f"merchant {merchant_id}: no orders paid in {period}")
    volume = int(head["shipped"] or 0)
    industry = head["industry"]
    if volume < th.min_history_orders:  # LD-10
        return Diagnosis(
            merchant_id,
            period,
            industry,
            "cold_start",
            volume,
            topic_status="cold_start",
            recommendations=list(COLD_START_ADVICE),
        )
    # One pass over all shipments: the merchant's industry in the period, kept for the rest.
    same = materialize(con, scoped.filter(_same_industry(scoped, industry)))
    mine = same.filter(same.merchant_id == merchant_id)
    shipped = mine.filter(mine.shipped)
    summary = rows(con.to_pyarrow(shipped.aggregate(**aggregations(shipped))))[0]
    capability = rows(con.to_pyarrow(carrier_capability(same, merchant_id)))
    result = Diagnosis(
        merchant_id,
        period,
        industry,
        "ready",
        volume,
        summary,
        capability,
        sub_score(summary),
        controlled=_controlled_usage(con, shipped, controlled or {}),
    )
    if not _enabled(merchants, merchant_id):
        return result
    topic, recs = _topic(con, same, merchant_id, summary, th)
    gains, note = _conversion(con, shipments, merchant_id, topic.standings, conversion_table)
    topic = replace(topic, conversion=gains, conversion_note=note)
    status = "enabled" if topic.peer_count else "no_peers"
    return replace(result, topic=topic, recommendations=recs, topic_status=status)


def _same_industry(t: ir.Table, industry: str | None) -> ir.BooleanValue:
    return t.industry.isnull() if industry is None else t.industry == industry


def materialize(con: Any, expr: ir.Table) -> ir.Table:
    """Compute once and keep: a temporary table on DuckDB, a cached DataFrame on Spark."""
    if con.name == "duckdb":
        return con.create_table(f"_lvyue_dx_{uuid.uuid4().hex}", expr, temp=True)
    cached: ir.Table = expr.cache()
    return cached


def _controlled_usage(
    con: Any, shipped: ir.Table, controlled: dict[tuple[str, str], EntityState]
) -> list[ControlledUsage]:
    """LD-5: the merchant's shipments through routes/outlets under control."""
    if not controlled:
        return []
    out: list[ControlledUsage] = []
    for kind, keys in (("route", ROUTE_KEYS), ("outlet", OUTLET_KEYS)):
        counts = rows(con.to_pyarrow(shipped.group_by(list(keys)).aggregate(n=shipped.count())))
        for row in counts:
            key = "|".join(str(row[k]) for k in keys)
            state = controlled.get((kind, key))
            if state is not None:
                since = state.events[-1].split()[0] if state.events else ""
                out.append(ControlledUsage(kind, key, int(row["n"]), since))
    return out


def _topic(
    con: Any,
    same: ir.Table,
    merchant_id: str,
    summary: dict[str, Any],
    th: Thresholds,
) -> tuple[TopicAnalysis, list[growth.Recommendation]]:
    """LD-6/LD-7 on ``same``: the period's shipments of the merchant's industry."""
    population = rows(con.to_pyarrow(peers.merchant_table(same, th.min_history_orders)))
    me = {"merchant_id": merchant_id, **summary}
    standings = peers.standing(me, population)
    lanes = peers.lanes_from(con.to_pyarrow(peers.lane_detail(same, merchant_id)))
    # A merchant's lane sees far fewer orders than a carrier's route in a week: judge lanes from
    # LANE_MIN_VOLUME orders (or the governance minimum, if lower).
    lane_min = min(th.min_volume, LANE_MIN_VOLUME)
    suggestions = peers.suggestions(lanes, standings, lane_min)
    by_lane = _lane_carriers(con, same, merchant_id)
    recs = growth.recommend(lanes, by_lane, standings, th.route_on_time_rate_min, lane_min)
    gain, projected, note = _gain(con, same, merchant_id, standings, summary)
    n_peers = max((s.peers for s in standings), default=0)  # peers with a value
    return TopicAnalysis(n_peers, standings, lanes, suggestions, gain, projected, note), recs


def _lane_carriers(
    con: Any, same: ir.Table, merchant_id: str
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    peer = same.filter(same.shipped, same.merchant_id != merchant_id)
    table = peer.group_by(["origin_city", "dest_city", "carrier"]).aggregate(
        **{k: v for k, v in aggregations(peer, ["on_time_rate"]).items()}
    )
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows(con.to_pyarrow(table)):
        out.setdefault((r["origin_city"], r["dest_city"]), []).append(r)
    return out


def targets(standings: list[peers.PeerStanding], level: str) -> settlement.Targets:
    """Peer P50/P75 targets for the metrics the settlement model reads."""
    by = {s.column: (s.peer_p50 if level == "p50" else s.peer_p75) for s in standings}
    return settlement.Targets(
        pickup_h_avg=by.get("pickup_from_ship_h_avg"),
        transit_h_avg=by.get("transit_h_avg"),
        exception_rate=by.get("exception_rate"),
    )


def _gain(
    con: Any,
    same: ir.Table,
    merchant_id: str,
    standings: list[peers.PeerStanding],
    summary: dict[str, Any],
) -> tuple[dict[str, settlement.Gain], dict[str, SubScore], str]:
    data = settlement.OrderFeatures.from_arrow(
        con.to_pyarrow(same.filter(same.shipped).select(*SETTLEMENT_COLUMNS))
    )
    projected = {lvl: sub_score(_improved(summary, standings, lvl)) for lvl in ("p50", "p75")}
    if len(data.raw) == 0:
        return {}, projected, "no settlement outcomes recorded: gain not estimated"
    model = settlement.SettlementModel.fit(data)
    mine = data.subset(data.merchant_id == merchant_id)
    try:
        gains = {
            lvl: settlement.gain(model.predict, mine, targets(standings, lvl))
            for lvl in ("p50", "p75")
        }
    except DiagnosisError as exc:
        return {}, projected, str(exc)
    return gains, projected, ""


def _improved(
    summary: dict[str, Any], standings: list[peers.PeerStanding], level: str
) -> dict[str, Any]:
    """The summary with each lagging rate raised to the peer target (for the projected score)."""
    out = dict(summary)
    for s in standings:
        target = s.peer_p50 if level == "p50" else s.peer_p75
        if s.column in out and target is not None and s.value is not None:
            better = target > s.value if peers.higher_is_better(s.column) else target < s.value
            if better:
                out[s.column] = target
    return out


CONVERSION_COLUMNS = conversion.COLUMNS


def _conversion(
    con: Any,
    shipments: ir.Table,
    merchant_id: str,
    standings: list[peers.PeerStanding],
    table: pa.Table | None,
) -> tuple[dict[str, ConversionGain], str]:
    """LD-1: conversion now and at the peer targets. The conversion table has no dates, so
    the model reads every shipped order in the facts (the span the table covers)."""
    if table is None:
        return {}, "conversion effect unavailable: the facts have no conversion table"
    observed = conversion.Observed.from_arrow(table)
    rate = observed.rate(merchant_id)
    if rate is None:
        return {}, f"conversion effect unavailable: no visitors recorded for {merchant_id}"
    shipped = shipments.filter(shipments.shipped).select(*CONVERSION_COLUMNS)
    orders = conversion.ShippedOrders.from_arrow(con.to_pyarrow(shipped))
    try:
        model = conversion.fit_from(orders, observed)
        raw, visitors = orders.of(merchant_id), observed.visitors[merchant_id]
        gains = {
            lvl: conversion.gain(model, raw, rate, visitors, targets(standings, lvl))
            for lvl in ("p50", "p75")
        }
    except DiagnosisError as exc:
        return {}, f"conversion effect unavailable: {exc}"
    return gains, ""
