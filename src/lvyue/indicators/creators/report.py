"""Judged claims and their measures as tables (files) and rows (the API), and their score
against the simulator's labels (``false_claims``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import pyarrow as pa

from lvyue.indicators.creators.judge import ClaimFinding
from lvyue.indicators.creators.ladder import ClaimProposal
from lvyue.indicators.labels import Score

TIME = pa.timestamp("s", tz="UTC")
FINDINGS = pa.schema(
    [("party", pa.string()), ("party_id", pa.string()), ("promotion_id", pa.string()),
     ("claim_no", pa.int64()), ("creator_id", pa.string()), ("merchant_id", pa.string()),
     ("product_id", pa.string()), ("kind", pa.string()), ("phrase", pa.string()),
     ("event", pa.string()), ("orders", pa.int64()), ("broken", pa.int64()),
     ("pending", pa.int64()), ("share", pa.float64()), ("level", pa.string()),
     ("clauses", pa.string()), ("why", pa.string())]
)  # fmt: skip
PROPOSALS = pa.schema(
    [("party", pa.string()), ("party_id", pa.string()), ("kind", pa.string()),
     ("level", pa.int64()), ("start", TIME), ("promotions", pa.string()),
     ("products", pa.string()), ("merchants", pa.string()), ("clauses", pa.string()),
     ("reason", pa.string()), ("end", TIME), ("until", TIME), ("ended_by", pa.string())]
)  # fmt: skip


def finding_row(f: ClaimFinding) -> dict[str, Any]:
    row = asdict(f)
    row |= {"party": f.party, "party_id": f.party_id, "share": f.share}
    row["clauses"] = list(f.clauses)
    return row


def proposal_row(p: ClaimProposal) -> dict[str, Any]:
    row = asdict(p)
    for key in ("promotions", "products", "merchants", "clauses"):
        row[key] = list(row[key])
    return row


def findings_table(
    findings: Iterable[ClaimFinding], levels: Sequence[str] | None = None
) -> pa.Table:
    rows = [
        {**finding_row(f), "clauses": ";".join(f.clauses)}
        for f in findings
        if levels is None or f.level in levels
    ]
    return pa.Table.from_pylist(rows, schema=FINDINGS)


def proposals_table(proposals: Iterable[ClaimProposal]) -> pa.Table:
    rows = [
        {**proposal_row(p), **{k: ";".join(getattr(p, k)) for k in
                               ("promotions", "products", "merchants", "clauses")}}
        for p in proposals
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=PROPOSALS)


def score(
    proposals: Iterable[ClaimProposal], labels: Iterable[dict[str, Any]], party: str
) -> Score:
    """Parties of ``party`` ("creator" or "merchant") with a measure against those labelled
    false claimers; a labelled party whose claims were never judged (too few orders) is
    missed."""
    flagged = {p.party_id for p in proposals if p.party == party}
    truth = {str(r["party_id"]) for r in labels if r["party"] == party}
    hit = flagged & truth
    return Score(len(flagged), len(truth), len(hit), tuple(sorted(truth - flagged)),
                 tuple(sorted(flagged - truth)))  # fmt: skip
