"""Graded measures for VF-8's festival orders, and the settlement penalties an extended
settlement measure puts on them (VF-6: "因违规产生延长账期处罚的订单除外")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa

from lvyue.engine.clocks import penalty_date, reaches
from lvyue.indicators.expressions import in_scope
from lvyue.indicators.judge import Judged
from lvyue.indicators.ladder import CLAUSE, Proposal, propose
from lvyue.indicators.run import evaluate, festival
from lvyue.indicators.source import Sources
from lvyue.indicators.thresholds import Thresholds, thresholds_at
from lvyue.rulebook import Rulebook, load_rulebook


@dataclass(frozen=True)
class Outcome:
    merchants: list[Judged]
    products: list[Judged]
    proposals: list[Proposal]
    thresholds: dict[datetime, Thresholds]
    ends: tuple[datetime, ...] = ()  # every period end judged, with or without orders


def measures_for(
    src: Sources,
    as_of: datetime,
    periods: int,
    *,
    backend: Any = None,
    rulebook: Rulebook | None = None,
) -> Outcome:
    """VF-8's orders judged at ``periods`` period ends up to ``as_of``, and the measures."""
    rb = rulebook if rulebook is not None else load_rulebook()
    plan = festival(CLAUSE, as_of, periods, rb)
    merchants = evaluate(src, plan, backend=backend, rulebook=rb)
    products = evaluate(src, plan, by_product=True, backend=backend, rulebook=rb)
    ends = {j.period_end for j in merchants}
    thresholds = {end: thresholds_at(end, rb) for end in ends}
    judged = tuple(datetime.fromtimestamp(e, UTC) for e, _, _ in plan.periods)
    proposals = propose(merchants, products, thresholds)
    return Outcome(merchants, products, proposals, thresholds, judged)


PENALTY_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("merchant_id", pa.string()),
        ("settlement_extended_penalty", pa.bool_()),
        ("penalty_settlement_time", pa.timestamp("s", tz="UTC")),
        ("clauses", pa.string()),
    ]
)


def settlement_penalties(
    src: Sources, outcome: Outcome, backend: Any = None, rulebook: Rulebook | None = None
) -> pa.Table:
    """The festival orders an ``extend_settlement`` measure reaches: those of its merchant
    not yet settled under VF-6 when it starts (no receipt, or receipt + 30 d after the start).
    They settle ``extended_settlement_days`` after receipt (VF-6a's penalty date; unknown
    until received)."""
    rb = rulebook if rulebook is not None else load_rulebook()
    extended = [p for p in outcome.proposals if p.kind == "extend_settlement"]
    if not extended:
        return PENALTY_SCHEMA.empty_table()
    con = backend if backend is not None else ibis.duckdb.connect()
    orders = in_scope(src.orders, rb.clause(CLAUSE))
    wanted = sorted({p.merchant_id for p in extended})
    mine = orders.filter(orders.merchant_id.isin(wanted))
    rows = con.to_pyarrow(mine.select("order_id", "merchant_id", "receipt_s")).to_pylist()
    out = []
    for p in extended:
        days = outcome.thresholds[p.start].extended_settlement_days
        for r in rows:
            receipt = r["receipt_s"]
            received = None if receipt is None else datetime.fromtimestamp(receipt, UTC)
            if r["merchant_id"] != p.merchant_id or not reaches(received, p.start):
                continue
            out.append({"order_id": r["order_id"], "merchant_id": p.merchant_id,
                        "settlement_extended_penalty": True,
                        "penalty_settlement_time": penalty_date(received, days.value),
                        "clauses": f"VF-6a;{p.cited};{days.clause}"})  # fmt: skip
    return pa.Table.from_pylist(out, schema=PENALTY_SCHEMA)


def apply_penalties(orders: pa.Table, penalties: pa.Table) -> pa.Table:
    """The orders table with the penalties' two columns set (VF-6's exception, VF-6a's date)."""
    by_id = {r["order_id"]: r for r in penalties.to_pylist()}
    ids = orders.column("order_id").to_pylist()
    flags = _column(orders, "settlement_extended_penalty", pa.bool_())
    times = _column(orders, "penalty_settlement_time", pa.timestamp("s", tz="UTC"))
    new_flags = [True if i in by_id else f for i, f in zip(ids, flags, strict=True)]
    new_times = [
        by_id[i]["penalty_settlement_time"] if i in by_id else t
        for i, t in zip(ids, times, strict=True)
    ]
    table = orders
    for name, values, kind in (
        ("settlement_extended_penalty", new_flags, pa.bool_()),
        ("penalty_settlement_time", new_times, pa.timestamp("s", tz="UTC")),
    ):
        array = pa.array(values, kind)
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table


def _column(table: pa.Table, name: str, kind: pa.DataType) -> list[Any]:
    if name not in table.column_names:
        return [None] * table.num_rows
    column = table.column(name)
    if column.type != kind:
        column = column.cast(kind)
    values: list[Any] = column.to_pylist()
    return values
