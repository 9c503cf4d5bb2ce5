"""Graded measures for false logistics claims (VF-9), by severity and repetition, over periods.

The claims are judged at period ends ``claims.period_days`` apart, each on the orders paid in
the ``claims.window_days`` before it (lvyue.indicators.creators.run.measure_claims). A party's
escalation level in a period = the severity points of its false claims there (1 a warning-level
claim, 2 a severe one; each false claim of each promotion counts) + the periods with a false
claim just before it (repetition), as VF-8's ladder counts them (lvyue.indicators.ladder). The
measure proposed is the highest step of the party's ladder whose level is reached
(announcements/creator-claims.yaml, operator defaults): a creator's (警告 … 封禁账号) for its own
promotions, the merchant's (警告 … 限制订单) for its own listings. A heavier measure replaces a
lighter one (which ends then); one in force is lifted by rule after ``claims.lift_after_periods``
periods without a false claim (a period whose claims were too few to judge counts as one),
except a ban (封禁账号: only an operator lifts it). Each proposal cites VF-9, its step's clause
and the claims that triggered it, with its start and its end (or the earliest end).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lvyue.indicators.creators.judge import (
    CLAUSE,
    CREATOR_STEPS,
    MERCHANT_STEPS,
    ClaimFinding,
    ClaimThresholds,
)
from lvyue.indicators.judge import POINTS
from lvyue.indicators.thresholds import Cited

NEVER_LIFTED = frozenset({"ban_account"})  # 封禁账号: only an operator reverses it
Period = tuple[ClaimThresholds, Sequence[ClaimFinding]]  # (thresholds at its end, findings)


@dataclass(frozen=True)
class ClaimProposal:
    party: str  # creator | merchant
    party_id: str
    kind: str  # a step of CREATOR_STEPS or MERCHANT_STEPS
    level: int
    start: datetime  # the period end that triggered it
    promotions: tuple[str, ...]  # the promotions whose claims were false
    products: tuple[str, ...]  # their products (delist_product's targets)
    merchants: tuple[str, ...]  # whose products they are
    clauses: tuple[str, ...]
    reason: str
    end: datetime | None = None  # lifted by rule or replaced by a heavier one; None: in force
    until: datetime | None = None  # in force: the earliest end if every later period is clean
    ended_by: str = ""  # "" | "lifted by rule" | "replaced"

    @property
    def cited(self) -> str:
        return ";".join(self.clauses)

    @property
    def clause(self) -> str:
        """VF-9 and the step's clause: what a recorded measure names."""
        return ";".join(self.clauses[:2])


def _ladder(party: str, th: ClaimThresholds) -> tuple[dict[str, Cited], tuple[str, ...]]:
    if party == "creator":
        return th.creator_steps, CREATOR_STEPS
    return th.merchant_steps, MERCHANT_STEPS


def _step(level: int, steps: dict[str, Cited], order: tuple[str, ...]) -> str | None:
    reached = [s for s in order if level >= steps[s].value]
    return reached[-1] if reached else None


def _until(at: datetime, th: ClaimThresholds, kind: str) -> datetime | None:
    if kind in NEVER_LIFTED:
        return None
    return at + timedelta(days=th.period_days.value * th.lift_after_periods.value)


def _proposal(
    party: str, party_id: str, false: Sequence[ClaimFinding], level: int, th: ClaimThresholds
) -> ClaimProposal | None:
    steps, order = _ladder(party, th)
    kind = _step(level, steps, order)
    if kind is None:
        return None
    clauses = dict.fromkeys([CLAUSE, steps[kind].clause, *(c for f in false for c in f.clauses)])
    reason = "; ".join(f"{f.promotion_id} {f.why}" for f in false)
    repeated = level - sum(POINTS[f.level] for f in false)
    again = f" (false again after {repeated} period(s))" if repeated else ""
    return ClaimProposal(
        party, party_id, kind, level, th.at,
        tuple(sorted({f.promotion_id for f in false})),
        tuple(sorted({f.product_id for f in false})),
        tuple(sorted({f.merchant_id for f in false})),
        tuple(clauses), f"VF-9 false logistics claims{again}: {reason}",
        until=_until(th.at, th, kind),
    )  # fmt: skip


def _order(party: str) -> tuple[str, ...]:
    return CREATOR_STEPS if party == "creator" else MERCHANT_STEPS


def _walk(party: str, party_id: str, periods: Sequence[Period]) -> list[ClaimProposal]:
    """One party's measures over the periods, oldest first."""
    done: list[ClaimProposal] = []
    current: ClaimProposal | None = None
    clean = streak = 0
    for th, findings in periods:
        false = [f for f in findings if f.false and (f.party, f.party_id) == (party, party_id)]
        if not false:
            streak, clean = 0, clean + 1
            lifts = current is not None and current.kind not in NEVER_LIFTED
            if current is not None and lifts and clean >= th.lift_after_periods.value:
                done.append(replace(current, end=th.at, until=None, ended_by="lifted by rule"))
                current = None
            continue
        level = sum(POINTS[f.level] for f in false) + streak
        clean, streak = 0, streak + 1
        new = _proposal(party, party_id, false, level, th)
        if new is None:
            continue
        if current is None or _order(party).index(new.kind) > _order(party).index(current.kind):
            if current is not None:
                done.append(replace(current, end=th.at, until=None, ended_by="replaced"))
            current = new
        else:  # still false: the earliest end moves with this period
            current = replace(current, until=_until(th.at, th, current.kind))
    return [*done, *([current] if current is not None else [])]


def walk(periods: Iterable[Period]) -> list[ClaimProposal]:
    """Every party's measures over ``periods`` (any order): by party, then start."""
    ordered = sorted(periods, key=lambda p: p[0].at)
    parties = {(f.party, f.party_id) for _, findings in ordered for f in findings if f.false}
    return [p for party, pid in sorted(parties) for p in _walk(party, pid, ordered)]


def propose(findings: Iterable[ClaimFinding], th: ClaimThresholds) -> list[ClaimProposal]:
    """The measures of one judgement (a single period ending at ``th.at``)."""
    return walk([(th, list(findings))])
