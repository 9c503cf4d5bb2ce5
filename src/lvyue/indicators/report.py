"""Judged indicators as a table: one row per period × merchant (× product) × indicator."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import pyarrow as pa

from lvyue.indicators.judge import Judged
from lvyue.indicators.ladder import Proposal

TIME = pa.timestamp("s", tz="UTC")
LABELS = {
    "defect_rate": "残次率",
    "not_as_described_rate": "描述不符率",
    "product_return_rate": "品退率",
    "complaint_rate": "投诉率",
    "negative_review_rate": "差评率",
    "experience_score": "体验分",
}
SCHEMA = pa.schema(
    [
        ("period_end", TIME),
        ("pay_start", TIME),
        ("pay_end", TIME),
        ("merchant_id", pa.string()),
        ("product_id", pa.string()),
        ("industry", pa.string()),
        ("orders", pa.int64()),
        ("reviews", pa.int64()),
        ("indicator", pa.string()),
        ("value", pa.float64()),
        ("peer_median", pa.float64()),
        ("level", pa.string()),
        ("clauses", pa.string()),
        ("why", pa.string()),
    ]
)


def findings_table(judged: Iterable[Judged], levels: Sequence[str] | None = None) -> pa.Table:
    """Every finding (or only those of ``levels``), clauses ``;``-joined."""
    rows = [
        {
            "period_end": j.period_end,
            "pay_start": j.pay_start,
            "pay_end": j.pay_end,
            "merchant_id": j.merchant_id,
            "product_id": j.product_id,
            "industry": j.industry,
            "orders": j.orders,
            "reviews": j.reviews,
            "indicator": f.indicator,
            "value": f.value,
            "peer_median": f.peer_median,
            "level": f.level,
            "clauses": ";".join(f.clauses),
            "why": f.why,
        }
        for j in judged
        for f in j.findings.values()
        if levels is None or f.level in levels
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


PROPOSALS = pa.schema(
    [("merchant_id", pa.string()), ("product_id", pa.string()), ("kind", pa.string()),
     ("level", pa.int64()), ("start", TIME), ("end", TIME), ("until", TIME),
     ("ended_by", pa.string()), ("clauses", pa.string()), ("reason", pa.string())]
)  # fmt: skip


def proposal_row(p: Proposal) -> dict[str, Any]:
    """A VF-8 measure as the API shows it (its clauses a list)."""
    return {**asdict(p), "clauses": list(p.clauses)}


def proposals_table(proposals: Iterable[Proposal]) -> pa.Table:
    """The measures as a file (clauses ``;``-joined)."""
    rows = [{**proposal_row(p), "clauses": p.cited} for p in proposals]
    return pa.Table.from_pylist(rows, schema=PROPOSALS)
