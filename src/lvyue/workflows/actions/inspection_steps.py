"""The BTAS inspection steps an account takes on an inspection by its id, and the list it
sees: the one use case the API (``/btas/inspections``) and the console (``/console/btas``)
both call, so a step checks, transitions and audits the same way from either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lvyue.store.workflow_tables import Inspection
from lvyue.workflows import config
from lvyue.workflows.actions.inspection import (
    Actor,
    Parcel,
    load,
    record_result,
    resubmit,
    return_to_merchant,
    send,
    step,
)


@dataclass(frozen=True)
class Result:
    """The agency's finding (BT-7, BT-10): a pass issues the item's code."""

    passed: bool
    report_ref: str
    evidence: tuple[str, ...] = ()
    tag_ref: str | None = None


@dataclass(frozen=True)
class Send:
    parcel: Parcel  # the merchant sends the item with tracking and packing video (BT-9)


@dataclass(frozen=True)
class Record:
    result: Result


@dataclass(frozen=True)
class ReturnItem:
    parcel: Parcel  # the agency returns the sealed, passed item (BT-2, BT-3)


@dataclass(frozen=True)
class Plain:
    event: str  # receive | cancel | resubmit: no details


Step = Send | Record | ReturnItem | Plain


def take(
    session: Session, inspection_id: str, actor: Actor, now: datetime, what: Step
) -> Inspection:
    """Take one step on the inspection ``actor`` may see (NotFound otherwise); a step the
    state or the actor's role does not allow is a Refusal, as ``step`` decides."""
    row = load(session, inspection_id, actor)
    if isinstance(what, Send):
        p = what.parcel
        send(session, row, actor, now, carrier=p.carrier, waybill=p.waybill,
             packing_video=p.packing_video)  # fmt: skip
    elif isinstance(what, Record):
        r = what.result
        record_result(session, row, actor, now, config.signer(), passed=r.passed,
                      report_ref=r.report_ref, evidence=list(r.evidence),
                      tag_ref=r.tag_ref)  # fmt: skip
    elif isinstance(what, ReturnItem):
        return_to_merchant(session, row, actor, now, parcel=what.parcel)
    elif what.event == "resubmit":
        resubmit(session, row, actor, now)
    else:
        step(session, row, what.event, actor, now)
    return row


def visible(actor: Actor, *, newest_first: bool = False) -> Select[Inspection] | None:
    """The inspections ``actor`` lists: a merchant's own, an agency's received ones; None for
    an account that is neither (it has no inspection list)."""
    query = select(Inspection)
    if actor.merchant_id is not None:
        query = query.where(Inspection.merchant_id == actor.merchant_id)
    elif actor.agency is not None:
        query = query.where(Inspection.agency == actor.agency)
    else:
        return None
    if newest_first:
        return query.order_by(Inspection.created_at.desc(), Inspection.inspection_id)
    return query.order_by(Inspection.created_at, Inspection.inspection_id)


def is_authentic(code: str, item_id: str, merchant_id: str) -> bool:
    """BT-10: the code is this item's of this merchant (by its signature alone)."""
    return config.signer().is_authentic(code, item_id, merchant_id)
