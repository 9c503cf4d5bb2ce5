"""VF-9's claims judged over the orders that came from each promotion, and the measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis

from lvyue.diagnosis.metrics import rows as arrow_rows
from lvyue.indicators.creators.expressions import CLAIM_KEYS, claim_outcomes
from lvyue.indicators.creators.judge import (
    CLAUSE,
    ClaimFinding,
    ClaimThresholds,
    claim_thresholds,
    finding,
)
from lvyue.indicators.creators.ladder import ClaimProposal, propose
from lvyue.indicators.creators.source import ClaimSources
from lvyue.indicators.errors import IndicatorError
from lvyue.rulebook import Rulebook, load_rulebook


@dataclass(frozen=True)
class ClaimOutcome:
    as_of: datetime
    pay_start: datetime
    pay_end: datetime
    findings: list[ClaimFinding]
    proposals: list[ClaimProposal]
    thresholds: ClaimThresholds


def _in_force(rb: Rulebook) -> datetime:
    """VF-9 has no window of its own: it governs from its announcement's effective day."""
    effective = rb.announcement(rb.clause(CLAUSE).announcement).effective
    if effective is None:
        raise IndicatorError(f"{CLAUSE}: its announcement has no effective date")
    from lvyue.model.time import parse_instant

    return parse_instant(f"{effective.isoformat()} 00:00:00")


def judge_claims(
    src: ClaimSources,
    as_of: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    backend: Any = None,
    rulebook: Rulebook | None = None,
) -> ClaimOutcome:
    """Every claim of every promotion, judged at ``as_of`` over the orders paid in
    ``[since, until)`` (default: from VF-9's effective day to ``as_of``)."""
    rb = rulebook if rulebook is not None else load_rulebook()
    start, end = since or _in_force(rb), min(until or as_of, as_of)
    if end <= start:
        raise IndicatorError(f"the pay window is empty: {start.isoformat()} – {end.isoformat()}")
    con = backend if backend is not None else ibis.duckdb.connect()
    expr = claim_outcomes(
        src, rb.clause(CLAUSE), *(int(t.timestamp()) for t in (start, end, as_of))
    )
    counts = {tuple(r[k] for k in CLAIM_KEYS): r for r in arrow_rows(con.to_pyarrow(expr))}
    claims = arrow_rows(con.to_pyarrow(src.claims))
    th = claim_thresholds(as_of, rb)
    findings = [
        finding({**c, **counts.get((c["promotion_id"], c["claim_no"]), {})}, th) for c in claims
    ]
    findings.sort(key=lambda f: (f.party, f.party_id, f.promotion_id, f.claim_no))
    return ClaimOutcome(
        as_of, start.astimezone(UTC), end.astimezone(UTC), findings, propose(findings, th), th
    )
