"""BTAS inspection use cases (BT-2..BT-12): each loads, checks, transitions and audits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lvyue.engine.checks import CODE_RULE
from lvyue.model.rows import ShipmentIn
from lvyue.store.audit import audit
from lvyue.store.evidence import PREFIX as EVIDENCE_PREFIX
from lvyue.store.evidence import names_a_stored_file
from lvyue.store.hooks import ShipRefused
from lvyue.store.permissions import Role
from lvyue.store.refusals import RowRejected
from lvyue.store.shipping import SHIP_PERMISSION, Shipper, ShipperKind, ship
from lvyue.store.tables import Account, Order, Shipment
from lvyue.store.workflow_tables import Inspection, InspectionCode
from lvyue.workflows import inspection as inspection_flow
from lvyue.workflows.actions.common import NotFound, fire
from lvyue.workflows.actions.orders import load_order, order_context
from lvyue.workflows.machine import Conflict, Refusal
from lvyue.workflows.rules import Rules, cited

REQUIRED = CODE_RULE.required  # the inspection check's (engine.checks)


@dataclass(frozen=True)
class Actor:
    """Who acts: the account, and the tenant (merchant) or agency it belongs to."""

    account_id: str
    merchant_id: str | None = None
    agency: str | None = None


def load(session: Session, inspection_id: str, actor: Actor) -> Inspection:
    """The inspection if ``actor`` may see it (its merchant or its agency), else NotFound."""
    row = session.get(Inspection, inspection_id)
    if row is None or not _visible(row, actor):
        raise NotFound(f"inspection {inspection_id} not found")
    return row


def _visible(row: Inspection, actor: Actor) -> bool:
    if actor.merchant_id is not None:
        return row.merchant_id == actor.merchant_id
    if actor.agency is not None:
        return row.agency == actor.agency
    return True  # operators


def create(
    session: Session,
    actor: Actor,
    *,
    item_id: str,
    category: str,
    agency: str,
    order_id: str | None,
    now: datetime,
) -> Inspection:
    """An inspection order for one item (送检单, BT-4)."""
    if actor.merchant_id is None:
        raise Refusal("only a merchant creates inspection orders", field="merchant_id")
    if order_id is not None:
        load_order(session, order_id, actor.merchant_id)
    if not session.scalar(
        select(Account.account_id).where(
            Account.role == Role.INSPECTION_AGENCY.value, Account.organisation == agency
        )
    ):
        raise Refusal(f"no inspection agency {agency!r}", field="agency")
    if _code_for_item(session, actor.merchant_id, item_id) is not None:
        raise Conflict(
            f"item {item_id} already has an inspection code (one item, one code: BT-10)",
            clause="BT-10",
            field="item_id",
        )
    row = Inspection(
        inspection_id=f"INS-{secrets.token_hex(6).upper()}",
        merchant_id=actor.merchant_id,
        item_id=item_id,
        category=category,
        agency=agency,
        order_id=order_id,
        state=inspection_flow.MACHINE.initial,
        version=1,
        evidence=[],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor.account_id,
        action="inspection.create",
        entity=inspection_flow.WORKFLOW,
        entity_id=row.inspection_id,
        merchant_id=row.merchant_id,
        clause="BT-4",
        detail={"item_id": item_id, "agency": agency, "to": row.state},
        at=now,
    )
    return row


def _code_for_item(session: Session, merchant_id: str, item_id: str) -> InspectionCode | None:
    return session.scalar(
        select(InspectionCode).where(
            InspectionCode.merchant_id == merchant_id, InspectionCode.item_id == item_id
        )
    )


def step(
    session: Session,
    row: Inspection,
    event: str,
    actor: Actor,
    now: datetime,
    *,
    clause: str | None = None,
    detail: dict[str, object] | None = None,
    **changes: object,
) -> None:
    """Fire ``event`` on the inspection, recording actor, time and clause."""
    _check_role(event, actor)
    fire(
        session,
        inspection_flow.MACHINE,
        row,
        event,
        subject_id=row.inspection_id,
        actor=actor.account_id,
        merchant_id=row.merchant_id,
        at=now,
        clause=clause,
        detail=detail,
        changes={"updated_at": now, **changes},
    )


_AGENCY_EVENTS = {"receive", "pass", "fail", "ship_to_consumer", "return_to_merchant"}


def _check_role(event: str, actor: Actor) -> None:
    if event in _AGENCY_EVENTS and actor.agency is None:
        raise Refusal(f"only the inspection agency may {event!r}", field="state")
    if event not in _AGENCY_EVENTS and event != "expire" and actor.merchant_id is None:
        raise Refusal(f"only the merchant may {event!r}", field="state")


def send(
    session: Session,
    row: Inspection,
    actor: Actor,
    now: datetime,
    *,
    carrier: str,
    waybill: str,
    packing_video: str | None,
) -> None:
    """The item goes to the agency with tracking and a packing-video reference (BT-4, BT-9).
    A written reference never names a stored file (only its upload does: another shop's
    file would be borrowed) nor takes an uploaded record's place; none keeps what is there."""
    if names_a_stored_file(packing_video):
        raise Refusal(f"packing_video: a {EVIDENCE_PREFIX} reference is set by uploading the "
                      "file (POST /btas/inspections/{id}/packing-video), not written",
                      clause="BT-9", field="packing_video")  # fmt: skip
    if packing_video is not None and names_a_stored_file(row.send_video):
        raise Conflict(f"inspection {row.inspection_id} has an uploaded packing record: "
                       "correct it (…/packing-video/corrections)", clause="BT-9",
                       field="packing_video")  # fmt: skip
    packing_video = row.send_video if packing_video is None else packing_video
    detail: dict[str, object] = {
        "carrier": carrier,
        "waybill": waybill,
        "packing_video": packing_video,
    }
    step(
        session,
        row,
        "send",
        actor,
        now,
        detail=detail,
        carrier=carrier,
        waybill=waybill,
        send_video=packing_video,
    )


def record_result(
    session: Session,
    row: Inspection,
    actor: Actor,
    now: datetime,
    signer: inspection_flow.CodeSigner,
    *,
    passed: bool,
    report_ref: str,
    evidence: list[str],
    tag_ref: str | None,
) -> str | None:
    """The agency's result; a pass issues the item's one code (BT-10) and returns it."""
    if not passed:
        deadline = inspection_flow.resubmit_deadline(now)
        step(
            session,
            row,
            "fail",
            actor,
            now,
            detail={"report": report_ref, "resubmit_deadline": deadline.isoformat()},
            report_ref=report_ref,
            evidence=evidence,
            resubmit_deadline=deadline,
        )
        return None
    if not tag_ref:
        raise Refusal("a pass needs the anti-tamper tag reference (BT-7)", field="tag_ref")
    if _code_for_item(session, row.merchant_id, row.item_id) is not None:
        raise Conflict(
            f"item {row.item_id} already has an inspection code (one item, one code: BT-10)",
            clause="BT-10",
            field="item_id",
        )
    code_id, code = signer.issue(row.item_id, row.merchant_id)
    step(
        session,
        row,
        "pass",
        actor,
        now,
        detail={"report": report_ref, "code_id": code_id, "tag_ref": tag_ref},
        report_ref=report_ref,
        evidence=evidence,
    )
    session.add(
        InspectionCode(
            code_id=code_id,
            code=code,
            inspection_id=row.inspection_id,
            merchant_id=row.merchant_id,
            item_id=row.item_id,
            tag_ref=tag_ref,
            issued_at=now,
        )
    )
    session.flush()
    return code


def resubmit(session: Session, row: Inspection, actor: Actor, now: datetime) -> None:
    """A failed item goes back for inspection, before its re-submission deadline."""
    if row.resubmit_deadline is not None and now > row.resubmit_deadline:
        raise Refusal(
            f"inspection {row.inspection_id}: the re-submission deadline "
            f"{row.resubmit_deadline.isoformat()} has passed ({inspection_flow.RESUBMIT_CLAUSE})",
            clause=inspection_flow.RESUBMIT_CLAUSE,
            field="state",
        )
    step(session, row, "resubmit", actor, now, resubmit_deadline=None)


def code_of(session: Session, row: Inspection) -> InspectionCode:
    code = session.scalar(
        select(InspectionCode).where(InspectionCode.inspection_id == row.inspection_id)
    )
    if code is None:
        raise NotFound(f"inspection {row.inspection_id} has no code")
    return code


def ship_to_consumer(
    session: Session,
    row: Inspection,
    actor: Actor,
    now: datetime,
    *,
    order_id: str | None,
    parcel: Parcel,
) -> Shipment:
    """Route one of BT-2: the agency ships the passed item to the consumer, code bound."""
    target = order_id or row.order_id
    if target is None:
        raise Refusal("which order does the item ship for?", field="order_id")
    order = load_order(session, target, row.merchant_id)
    if order.product_id is not None and order.product_id != row.item_id:
        raise Refusal(
            f"order {order.order_id} is for item {order.product_id}, not {row.item_id} (BT-10)",
            clause="BT-10",
            field="order_id",
        )
    _not_shipped(session, order)
    code = code_of(session, row)
    if code.bound_order_id is not None:
        raise Conflict(f"inspection code {code.code_id} is already used (BT-10)", clause="BT-10")
    _bind(session, code, order, now)
    step(session, row, "ship_to_consumer", actor, now, detail={"order_id": order.order_id})
    return _ship(session, order, code, actor, now, parcel)


def return_to_merchant(
    session: Session, row: Inspection, actor: Actor, now: datetime, *, parcel: Parcel
) -> None:
    """Route two of BT-2 / pre-inspection BT-3: the sealed item goes back to the merchant."""
    detail: dict[str, object] = {"carrier": parcel.carrier, "waybill": parcel.waybill}
    step(session, row, "return_to_merchant", actor, now, detail=detail)


def expire_failed(session: Session, now: datetime) -> int:
    """Sweep: close failed inspections whose re-submission deadline has passed."""
    rows = session.scalars(
        select(Inspection).where(Inspection.state == "failed", Inspection.resubmit_deadline < now)
    ).all()
    closed = 0
    system = Actor("system:inspection-expiry")
    for row in rows:
        try:
            step(session, row, "expire", system, now)
            closed += 1
        except Conflict:
            continue  # another worker got there first
    return closed


def check_shipment(
    session: Session,
    rules: Rules,
    signer: inspection_flow.CodeSigner,
    order: Order,
    *,
    code: str | None,
    item_id: str | None,
    now: datetime,
) -> InspectionCode | None:
    """Whether the order may ship with ``code`` (BT-8, BT-10, BT-12); the code to bind.

    None when the category does not require inspection (``inspection.required``) and no
    code is given. The item is ``item_id``, else the order's product (a second-hand listing
    is one item). Refusals name the clause; a code bound to another order is a ``Conflict``.
    """
    answer = cited(rules.resolve(REQUIRED, order_context(session, order, ship_time=now)))
    required = answer is not None and answer.value is True
    if not required and not code:
        return None
    code_id = signer.code_id(code) if code else None
    issued = session.get(InspectionCode, code_id) if code_id else None
    item = item_id or order.product_id or (issued.item_id if issued else "")
    inspection_flow.check_code_for_shipment(
        signer,
        code,
        item_id=item,
        merchant_id=order.merchant_id,
        order_id=order.order_id,
        issued=None
        if issued is None
        else inspection_flow.IssuedCode(
            issued.code_id, issued.item_id, issued.merchant_id, issued.bound_order_id
        ),
        required_clause=answer.clause_id if answer is not None else "BT-8",
    )
    assert issued is not None  # check_code_for_shipment refuses unknown codes
    return issued


def bind_for_shipment(
    session: Session,
    rules: Rules,
    signer: inspection_flow.CodeSigner,
    order: Order,
    *,
    code: str | None,
    item_id: str | None,
    now: datetime,
    actor: Actor | None = None,
) -> InspectionCode | None:
    """Check the code (``check_shipment``) and bind it to the order (绑码, BT-3, BT-8).

    The merchant ships a pre-inspected item it took back (state ``returned``); binding moves
    the inspection to ``shipped`` and marks the code used, once.
    """
    issued = check_shipment(session, rules, signer, order, code=code, item_id=item_id, now=now)
    if issued is None or issued.bound_order_id == order.order_id:
        return issued
    inspection = session.get(Inspection, issued.inspection_id)
    if inspection is None or inspection.state != "returned":
        state = inspection.state if inspection else "missing"
        raise Refusal(
            f"inspection code {issued.code_id}: the item is not back with the merchant "
            f"(inspection {state}; BT-3)",
            clause="BT-3",
            field="inspection_code",
        )
    _bind(session, issued, order, now)
    who = actor or Actor("system:ship-check", merchant_id=order.merchant_id)
    step(session, inspection, "bind_and_ship", who, now, detail={"order_id": order.order_id})
    return issued


def _bind(session: Session, code: InspectionCode, order: Order, now: datetime) -> None:
    """Mark the code used by ``order``; the WHERE makes a concurrent second binding fail."""
    bound = session.execute(
        update(InspectionCode)
        .where(InspectionCode.code_id == code.code_id, InspectionCode.bound_order_id.is_(None))
        .values(bound_order_id=order.order_id, bound_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(bound, "rowcount", 1) != 1:
        raise Conflict(
            f"inspection code {code.code_id} was bound meanwhile (BT-10)",
            clause="BT-10",
            field="inspection_code",
        )
    set_committed_value(code, "bound_order_id", order.order_id)
    set_committed_value(code, "bound_at", now)


@dataclass(frozen=True)
class Parcel:
    """Carrier, waybill and packing-video reference of a shipment (BT-9)."""

    carrier: str
    waybill: str
    packing_video: str | None = None


def ship_with_code(
    session: Session,
    rules: Rules,
    signer: inspection_flow.CodeSigner,
    order: Order,
    actor: Actor,
    now: datetime,
    *,
    code: str | None,
    item_id: str | None,
    parcel: Parcel,
) -> Shipment:
    """The merchant binds the code and ships (绑码发货, BT-3, BT-8)."""
    _not_shipped(session, order)
    issued = bind_for_shipment(
        session, rules, signer, order, code=code, item_id=item_id, now=now, actor=actor
    )
    return _ship(session, order, issued, actor, now, parcel)


def _not_shipped(session: Session, order: Order) -> None:
    if session.get(Shipment, order.order_id) is not None:
        raise Conflict(f"order {order.order_id} has already shipped", field="order_id")


def _ship(
    session: Session,
    order: Order,
    code: InspectionCode | None,
    actor: Actor,
    now: datetime,
    parcel: Parcel,
) -> Shipment:
    """Through the one ship use case; the route has checked the permission (``orders:ship``
    for the merchant, ``inspection:inspect`` for the agency)."""
    kind: ShipperKind = "agency" if actor.agency is not None else "merchant"
    shipper = Shipper(actor.account_id, kind, frozenset({SHIP_PERMISSION[kind]}))
    body = ShipmentIn(
        carrier=parcel.carrier,
        waybill=parcel.waybill,
        ship_time=None,  # now: the server's clock
        inspection_code=code.code if code else None,
        packing_video=parcel.packing_video,
    )
    try:
        ship(session, order, body, shipper, now=now, clause="BT-8" if code else None)
    except ShipRefused as error:
        raise Refusal(error.message, clause=error.clause, field="inspection_code") from None
    except RowRejected as error:
        refusal = Conflict if error.kind == "conflict" else Refusal
        raise refusal(str(error), field="waybill") from None
    shipment = session.get(Shipment, order.order_id)
    assert shipment is not None  # just shipped
    return shipment
