"""VF-9's claims judged over the orders that came from each promotion, and the measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa

from lvyue.diagnosis.metrics import rows as arrow_rows
from lvyue.diagnosis.source import register
from lvyue.indicators.creators.expressions import CLAIM_KEYS, claim_outcomes, period_outcomes
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
from lvyue.indicators.judge import NOT_JUDGED
from lvyue.rulebook import Rulebook, load_rulebook


@dataclass(frozen=True)
class ClaimOutcome:
    as_of: datetime
    pay_start: datetime
    pay_end: datetime
    findings: list[ClaimFinding]
    proposals: list[ClaimProposal]
    thresholds: ClaimThresholds


def in_force(rb: Rulebook) -> datetime:
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
    start, end = since or in_force(rb), min(until or as_of, as_of)
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
) -> list[ClaimFinding]:
    """Every claim judged on the orders paid in ``[window[0], window[1])``, known at
    ``window[2]``."""
    pay_start, pay_end, as_of = (int(t.timestamp()) for t in window)
    expr = claim_outcomes(src, rb.clause(CLAUSE), pay_start, pay_end, as_of)
    counts = {_key(r): r for r in arrow_rows(con.to_pyarrow(expr))}
    claims = arrow_rows(con.to_pyarrow(src.claims))
    return _sorted([finding({**c, **counts.get(_key(c), {})}, th) for c in claims])


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in CLAIM_KEYS)


def _sorted(findings: list[ClaimFinding]) -> list[ClaimFinding]:
    return sorted(findings, key=lambda f: (f.party, f.party_id, f.promotion_id, f.claim_no))


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
    whose claim fell due in the ``claims.window_days`` before it (the first period: since VF-9
    or ``since``) — so an order's claim is judged once, when its outcome is final; a claim with
    too few such orders carries them to the next period; and the measures (ladder.walk)."""
    rb = rulebook if rulebook is not None else load_rulebook()
    start, last = since or in_force(rb), claim_thresholds(as_of, rb)
    step = timedelta(days=last.period_days.value)
    ends = [as_of - k * step for k in range(periods)][::-1]
    con = backend if backend is not None else ibis.duckdb.connect()
    plan = _plan(ends, start, rb)
    if not plan:
        raise IndicatorError(f"no period to judge: every period ends before {start.isoformat()}")
    table = pa.table({"period_end": [int(e.timestamp()) for e, _, _ in plan],
                      "due_from": [int(d.timestamp()) for _, d, _ in plan]})  # fmt: skip
    expr = period_outcomes(src, rb.clause(CLAUSE), int(start.timestamp()),
                           int(min(until or as_of, as_of).timestamp()),
                           register(table, "lvyue_cc_periods", backend))  # fmt: skip
    counts = {(r["period_end"], *_key(r)): r for r in arrow_rows(con.to_pyarrow(expr))}
    claims = arrow_rows(con.to_pyarrow(src.claims))
    judged: list[ClaimPeriod] = []
    carried: dict[tuple[Any, ...], tuple[int, int]] = {}
    for end, due_from, th in plan:
        at = int(end.timestamp())
        found = [_carry(c, counts.get((at, *_key(c)), {}), carried, th) for c in claims]
        judged.append(ClaimPeriod(end, due_from, _sorted(found), th))
    return ClaimMeasures(judged, walk((p.thresholds, p.findings) for p in judged))


def _plan(
    ends: list[datetime], start: datetime, rb: Rulebook
) -> list[tuple[datetime, datetime, ClaimThresholds]]:
    """(end, due_from, thresholds) of each period after ``start``; the first from ``start``."""
    plan: list[tuple[datetime, datetime, ClaimThresholds]] = []
    for end in (e for e in ends if e > start):  # none before VF-9 (or --since)
        th = claim_thresholds(end, rb)
        due_from = end - timedelta(days=th.window_days.value) if plan else start
        plan.append((end, due_from, th))
    return plan


def _carry(
    claim: dict[str, Any],
    counts: dict[str, Any],
    carried: dict[tuple[Any, ...], tuple[int, int]],
    th: ClaimThresholds,
) -> ClaimFinding:
    """A claim's orders of this period, with those of the periods before that were too few to
    judge (CC-1): each order is judged once, and a slow seller's claim is judged when enough
    have fallen due."""
    before = carried.pop(_key(claim), (0, 0))
    orders = int(counts.get("orders") or 0) + before[0]
    broken = int(counts.get("broken") or 0) + before[1]
    found = finding({**claim, "orders": orders, "broken": broken, "pending": 0}, th)
    if found.level == NOT_JUDGED and orders:
        carried[_key(claim)] = (orders, broken)
    return found
