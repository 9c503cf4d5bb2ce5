"""The measures the rules propose (VF-8's ladder for merchants, VF-9's for creators and
merchants' own listings), recorded by rule with ``measures.record_by_rule``: the one mapping
from a proposal to a recorded measure, used by ``lvyue measures propose --record``,
``lvyue creators measures --record`` and the worker's sweeps (``workflows.rule_sweeps``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lvyue.indicators.creators.ladder import ClaimProposal
from lvyue.indicators.ladder import Proposal
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.actions.measures import record_by_rule
from lvyue.workflows.measures import MeasureKind

VF8_ACTOR = "rule:VF-8"
VF9_ACTOR = "rule:VF-9"


@dataclass
class Recorded:
    recorded: int = 0
    skipped: int = 0  # already recorded (its later news applied), or an unknown party

    def count(self, new: bool) -> None:
        self.recorded, self.skipped = self.recorded + new, self.skipped + (not new)


def record_indicator_measures(session: Session, proposals: Iterable[Proposal]) -> Recorded:
    """VF-8's proposals, each recorded once against its merchant (or product)."""
    done = Recorded()
    for p in proposals:
        try:
            row = record_by_rule(
                session, merchant_id=p.merchant_id, product_id=p.product_id,
                kind=MeasureKind(p.kind), reason=p.reason, clause=";".join(p.clauses[:2]),
                start=p.start, until=p.until, end=p.end, actor=VF8_ACTOR,
            )  # fmt: skip
        except NotFound:
            row = None
        done.count(row is not None)
    return done


def record_claim_measures(session: Session, proposals: Iterable[ClaimProposal]) -> Recorded:
    """VF-9's proposals: a creator's against the creator, a merchant's against the merchant (a
    delisting once per product)."""
    done = Recorded()
    for p in proposals:
        creator = p.party == "creator"
        targets = p.products if p.kind == "delist_product" else (None,)
        for product in targets:
            try:
                row = record_by_rule(
                    session, merchant_id=None if creator else p.party_id,
                    creator_id=p.party_id if creator else None, product_id=product,
                    kind=MeasureKind(p.kind), reason=p.reason, clause=p.clause,
                    start=p.start, until=p.until, end=p.end, actor=VF9_ACTOR,
                )  # fmt: skip
            except NotFound:
                row = None
            done.count(row is not None)
    return done
