"""Creators (达人) and VF-9's logistics claims: what a promotion's text promised (当日达, 次日达,
N小时内发货, M月D日前包邮到家 …) checked against what the orders from that promotion actually got,
and the graded measures false claims lead to (creator, or the merchant for its own listings).
docs/decisions/creators-claims.md."""

from lvyue.indicators.creators.judge import ClaimFinding, ClaimThresholds
from lvyue.indicators.creators.ladder import ClaimProposal
from lvyue.indicators.creators.run import ClaimOutcome, judge_claims
from lvyue.indicators.creators.source import ClaimSources, build

__all__ = [
    "ClaimFinding",
    "ClaimOutcome",
    "ClaimProposal",
    "ClaimSources",
    "ClaimThresholds",
    "build",
    "judge_claims",
]
