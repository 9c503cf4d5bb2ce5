"""VF-9's claims judged over the orders that came from each promotion, and the measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from lvyue.indicators.creators.ladder import ClaimProposal, propose, walk
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
    th = claim_thresholds(as_of, rb)
    findings = _findings(src, con, rb, (start, end, as_of), th)
    return ClaimOutcome(
        as_of, start.astimezone(UTC), end.astimezone(UTC), findings, propose(findings, th), th
    )


def _findings(
    src: ClaimSources,
    con: Any,
    rb: Rulebook,
    window: tuple[datetime, datetime, datetime],
    th: ClaimThresholds,
    due_from: datetime | None = None,
) -> list[ClaimFinding]:
    """Every claim judged on the orders paid in ``[window[0], window[1])``, known at
    ``window[2]`` (and, with ``due_from``, falling due from then to ``window[2]``)."""
    due = None if due_from is None else int(due_from.timestamp())
    pay_start, pay_end, as_of = (int(t.timestamp()) for t in window)
    expr = claim_outcomes(src, rb.clause(CLAUSE), pay_start, pay_end, as_of, due)
    counts = {tuple(r[k] for k in CLAIM_KEYS): r for r in arrow_rows(con.to_pyarrow(expr))}
    claims = arrow_rows(con.to_pyarrow(src.claims))
    findings = [
        finding({**c, **counts.get((c["promotion_id"], c["claim_no"]), {})}, th) for c in claims
    ]
    findings.sort(key=lambda f: (f.party, f.party_id, f.promotion_id, f.claim_no))
    return findings


@dataclass(frozen=True)
class ClaimPeriod:
    end: datetime  # judged then, on what was known then
    due_from: datetime  # the claims that fell due in [due_from, end) are judged in it
    findings: list[ClaimFinding]
    thresholds: ClaimThresholds


@dataclass(frozen=True)
class ClaimMeasures:
    periods: list[ClaimPeriod]
    proposals: list[ClaimProposal]


def measure_claims(
    src: ClaimSources,
    as_of: datetime,
    periods: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    backend: Any = None,
    rulebook: Rulebook | None = None,
) -> ClaimMeasures:
    """The claims judged at ``periods`` period ends up to ``as_of`` (``claims.period_days``
    apart), each on the orders (paid from VF-9's effective day or ``since``, before ``until``)
    whose claim fell due in the ``claims.window_days`` before it — so an order's claim is
    judged once, when its outcome is final; and the measures they lead to (ladder.walk)."""
    rb = rulebook if rulebook is not None else load_rulebook()
    start, last = since or _in_force(rb), claim_thresholds(as_of, rb)
    step = timedelta(days=last.period_days.value)
    ends = [as_of - k * step for k in range(periods)][::-1]
    con = backend if backend is not None else ibis.duckdb.connect()
    judged = []
    for end in ends:
        th = claim_thresholds(end, rb)
        if end <= start:
            continue  # before VF-9 (or --since): nothing to judge yet
        due_from = end - timedelta(days=th.window_days.value)
        found = _findings(src, con, rb, (start, min(until or end, end), end), th, due_from)
        judged.append(ClaimPeriod(end, due_from, found, th))
    if not judged:
        raise IndicatorError(f"no period to judge: every period ends before {start.isoformat()}")
    return ClaimMeasures(judged, walk((p.thresholds, p.findings) for p in judged))
