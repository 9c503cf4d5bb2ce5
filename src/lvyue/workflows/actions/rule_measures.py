"""The measures the rules propose (VF-8's ladder for merchants, VF-9's for creators and
merchants' own listings), recorded by rule with ``measures.record_by_rule``: the one mapping
from a proposal to a recorded measure, used by ``lvyue measures propose --record``,
``lvyue creators measures --record`` and the worker's sweeps (``workflows.rule_sweeps``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lvyue.indicators.creators.ladder import ClaimProposal
from lvyue.indicators.creators.run import ClaimPeriod
from lvyue.indicators.judge import Judged
from lvyue.indicators.ladder import Proposal
from lvyue.model.time import as_utc
from lvyue.store.workflow_tables import Measure
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.actions.measures import in_force_by_rule, lift, record_by_rule
from lvyue.workflows.measures import MeasureKind

VF8_ACTOR = "rule:VF-8"
VF9_ACTOR = "rule:VF-9"
WITHDRAWN = "no longer supported on re-judgement"

# A recorded measure as record_by_rule knows it: party, product, kind, clause, start.
Key = tuple[str | None, str | None, str | None, str, str, datetime]
# A party a run judged: (merchant_id, None) or (None, creator_id), as measures name them.
Party = tuple[str | None, str | None]


@dataclass
class Recorded:
    recorded: int = 0
    skipped: int = 0  # already recorded (its later news applied), or an unknown party
    withdrawn: int = 0  # recorded earlier, no longer proposed: lifted by rule

    def count(self, new: bool) -> None:
        self.recorded, self.skipped = self.recorded + new, self.skipped + (not new)


def record_indicator_measures(
    session: Session,
    proposals: Sequence[Proposal],
    judged: Sequence[datetime],
    now: datetime,
    parties: set[Party],
) -> Recorded:
    """VF-8's proposals, each recorded once against its merchant (or product); a measure
    recorded at a ``judged`` period end and no longer proposed is withdrawn (``withdraw``)."""
    done = Recorded()
    kept: set[Key] = {(p.merchant_id, None, p.product_id, p.kind, ";".join(p.clauses[:2]),
                       as_utc(p.start)) for p in proposals}  # fmt: skip
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
    done.withdrawn = withdraw(session, VF8_ACTOR, judged, kept, now, parties)
    return done


def record_claim_measures(
    session: Session,
    proposals: Sequence[ClaimProposal],
    judged: Sequence[datetime],
    now: datetime,
    parties: set[Party],
) -> Recorded:
    """VF-9's proposals: a creator's against the creator, a merchant's against the merchant (a
    delisting once per product); the unsupported ones withdrawn as VF-8's."""
    done = Recorded()
    kept = {_claim_key(p, product) for p in proposals for product in _targets(p)}
    for p in proposals:
        creator = p.party == "creator"
        for product in _targets(p):
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
    done.withdrawn = withdraw(session, VF9_ACTOR, judged, kept, now, parties)
    return done


def _targets(p: ClaimProposal) -> Iterable[str | None]:
    return p.products if p.kind == "delist_product" else (None,)


def _claim_key(p: ClaimProposal, product: str | None) -> Key:
    creator = p.party == "creator"
    return (None if creator else p.party_id, p.party_id if creator else None, product, p.kind,
            p.clause, as_utc(p.start))  # fmt: skip


def _key(row: Measure) -> Key:
    return (row.merchant_id, row.creator_id, row.product_id, row.kind, row.clause,
            as_utc(row.created_at))  # fmt: skip


def withdraw(
    session: Session,
    actor: str,
    judged: Sequence[datetime],
    kept: set[Key],
    now: datetime,
    parties: set[Party],
) -> int:
    """Late data (more orders, a corrected reason, a complaint fed late) can change a period's
    judgement: a measure ``actor`` recorded at a period end this run judged (``judged``), still
    in force and no longer proposed, is lifted by rule at ``now``, the reason audited — as a
    live violation is withdrawn when late facts prove compliance. An operator's measure, one
    an operator lifted, one started at a period this run did not judge, and one of a party
    this run did not judge (``parties``: a CLI run over a snapshot holding other shops) are
    left alone."""
    found = in_force_by_rule(session, actor, list(judged))
    gone = [r for r in found if (r.merchant_id, r.creator_id) in parties and _key(r) not in kept]
    for row in gone:  # never before its start (a CLI run --as-of a later instant)
        lift(session, row, actor=actor, now=max(now, as_utc(row.created_at)), why=WITHDRAWN)
    return len(gone)


def indicator_parties(judged: Iterable[Judged]) -> set[Party]:
    """The merchants VF-8 judged (those with too few orders to judge are not among them)."""
    return {(j.merchant_id, None) for j in judged}


def claim_parties(periods: Iterable[ClaimPeriod]) -> set[Party]:
    """The creators and the merchants' own listings VF-9 judged, as their measures name them."""
    found = (f for p in periods for f in p.findings)
    return {(None, f.creator_id) if f.creator_id else (f.merchant_id, None) for f in found}
