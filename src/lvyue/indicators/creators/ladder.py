"""Graded measures for false logistics claims (VF-9), by severity and repetition.

A party's escalation level is the sum of its false claims' severity points (1 a warning-level
claim, 2 a severe one; each false claim of each promotion counts, so repeating a false claim
in another promotion climbs the ladder). The measure proposed is the highest step of the
party's ladder whose level is reached (announcements/creator-claims.yaml, operator defaults):
a creator's (警告 … 封禁账号) for its own promotions, the merchant's (警告 … 限制订单) for its own
listings. Each proposal cites VF-9, its step's clause and the claims that triggered it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lvyue.indicators.creators.judge import (
    CLAUSE,
    CREATOR_STEPS,
    MERCHANT_STEPS,
    ClaimFinding,
    ClaimThresholds,
)
from lvyue.indicators.judge import POINTS
from lvyue.indicators.thresholds import Cited


@dataclass(frozen=True)
class ClaimProposal:
    party: str  # creator | merchant
    party_id: str
    kind: str  # a step of CREATOR_STEPS or MERCHANT_STEPS
    level: int
    start: datetime  # the judging instant
    promotions: tuple[str, ...]  # the promotions whose claims were false
    products: tuple[str, ...]  # their products (delist_product's targets)
    merchants: tuple[str, ...]  # whose products they are
    clauses: tuple[str, ...]
    reason: str

    @property
    def cited(self) -> str:
        return ";".join(self.clauses)


def _step(level: int, steps: dict[str, Cited], order: tuple[str, ...]) -> str | None:
    reached = [s for s in order if level >= steps[s].value]
    return reached[-1] if reached else None


def _proposal(
    party: str, party_id: str, false: list[ClaimFinding], th: ClaimThresholds
) -> ClaimProposal | None:
    level = sum(POINTS[f.level] for f in false)
    steps, order = (
        (th.creator_steps, CREATOR_STEPS)
        if party == "creator"
        else (th.merchant_steps, MERCHANT_STEPS)
    )
    kind = _step(level, steps, order)
    if kind is None:
        return None
    clauses = dict.fromkeys([CLAUSE, steps[kind].clause, *(c for f in false for c in f.clauses)])
    reason = "; ".join(f"{f.promotion_id} {f.why}" for f in false)
    return ClaimProposal(
        party, party_id, kind, level, th.at,
        tuple(sorted({f.promotion_id for f in false})),
        tuple(sorted({f.product_id for f in false})),
        tuple(sorted({f.merchant_id for f in false})),
        tuple(clauses), f"VF-9 false logistics claims: {reason}",
    )  # fmt: skip


def propose(findings: Iterable[ClaimFinding], th: ClaimThresholds) -> list[ClaimProposal]:
    """One measure per creator (and per merchant, for its own listings) with false claims."""
    by_party: dict[tuple[str, str], list[ClaimFinding]] = defaultdict(list)
    for f in findings:
        if f.false:
            by_party[(f.party, f.party_id)].append(f)
    out = [_proposal(party, pid, false, th) for (party, pid), false in by_party.items()]
    return sorted((p for p in out if p is not None), key=lambda p: (p.party, p.party_id))
