"""After-sales use cases (SF-9): request, merchant decision, return, receipt, refund, sweep."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lvyue.model.enums import (
    AfterSaleIntervention,
    AfterSaleReason,
    AfterSaleType,
    MerchantDecision,
)
from lvyue.store.audit import audit
from lvyue.store.marks import mark_written
from lvyue.store.tables import AfterSale, Order
from lvyue.store.workflow_tables import AfterSaleState
from lvyue.workflows import after_sales as flow
from lvyue.workflows.actions import violations
from lvyue.workflows.actions.common import NotFound, fire
from lvyue.workflows.actions.orders import order_context
from lvyue.workflows.machine import Conflict, Refusal
from lvyue.workflows.rules import Rules

SWEEP_ACTOR = "system:after-sales-timeouts"


@dataclass
class Loaded:
    request: AfterSale
    status: AfterSaleState
    order: Order


def _initial_state(row: AfterSale) -> str:
    """The state of a request ingested without one, read off its step instants."""
    if row.refunded_at is not None:
        return "reshipped" if row.type == AfterSaleType.EXCHANGE else "refunded"
    if row.merchant_received_at is not None:
        return "received"
    if row.return_shipped_at is not None:
        return "return_shipped"
    if row.merchant_handled_at is not None:
        return "rejected" if row.merchant_decision == MerchantDecision.REJECTED else "agreed"
    return "requested"


def _status(session: Session, row: AfterSale) -> AfterSaleState:
    status = session.get(AfterSaleState, row.aftersale_id)
    if status is not None:
        return status
    try:
        with session.begin_nested():
            status = AfterSaleState(
                aftersale_id=row.aftersale_id, state=_initial_state(row), version=1
            )
            session.add(status)
        return status
    except IntegrityError:  # adopted concurrently: read the winner's row
        adopted = session.get(AfterSaleState, row.aftersale_id, populate_existing=True)
        assert adopted is not None
        return adopted


def _ensure_states(session: Session) -> None:
    """Give every request ingested as facts its workflow state (read off its instants)."""
    missing = session.scalars(
        select(AfterSale)
        .outerjoin(AfterSaleState, AfterSaleState.aftersale_id == AfterSale.aftersale_id)
        .where(AfterSaleState.aftersale_id.is_(None))
    )
    for row in missing.all():
        try:
            with session.begin_nested():
                session.add(
                    AfterSaleState(aftersale_id=row.aftersale_id, state=_initial_state(row))
                )
        except IntegrityError:
            continue  # a concurrent sweep adopted it first


def load(
    session: Session, aftersale_id: str, merchant_id: str | None, consumer_id: str | None = None
) -> Loaded:
    """The request; ``NotFound`` alike when missing, another tenant's (``merchant_id``) or on
    another consumer's order (``consumer_id``), so no id can be probed."""
    row = session.get(AfterSale, aftersale_id)
    order = None if row is None else session.get(Order, row.order_id)
    if (
        row is None
        or (merchant_id is not None and row.merchant_id != merchant_id)
        or (
            consumer_id is not None
            and (order is None or order.extra.get("consumer_id") != consumer_id)
        )
    ):
        raise NotFound(f"after-sales request {aftersale_id} not found")
    if order is None:
        raise NotFound(f"order {row.order_id} not found")
    return Loaded(row, _status(session, row), order)


def request(
    session: Session,
    order: Order,
    *,
    kind: AfterSaleType,
    actor: str,
    now: datetime,
    reason: AfterSaleReason | None = None,
) -> Loaded:
    """A consumer's after-sales request on an order (售后申请)."""
    open_states = ("requested", "agreed", "return_shipped", "received")
    existing = session.scalars(select(AfterSale).where(AfterSale.order_id == order.order_id))
    for other in existing:
        if _status(session, other).state in open_states:
            raise Conflict(
                f"order {order.order_id} already has an open request {other.aftersale_id}",
                field="order_id",
            )
    row = AfterSale(
        aftersale_id=f"AS-{secrets.token_hex(6).upper()}",
        order_id=order.order_id,
        merchant_id=order.merchant_id,
        type=kind.value,
        created_at=now,
        reason=None if reason is None else reason.value,  # VF-8: the indicators read it
    )
    session.add(row)
    session.flush()
    status = AfterSaleState(aftersale_id=row.aftersale_id, state=flow.MACHINE.initial, version=1)
    session.add(status)
    audit(
        session,
        actor=actor,
        action="after_sale.request",
        entity=flow.WORKFLOW,
        entity_id=row.aftersale_id,
        merchant_id=row.merchant_id,
        clause="SF-9",
        detail={"order_id": order.order_id, "type": kind.value, "to": status.state},
        at=now,
    )
    session.flush()
    return Loaded(row, status, order)


# The instant each event stamps on the facts-format row.
_STAMPS = {
    "agree": "merchant_handled_at",
    "auto_agree": "merchant_handled_at",
    "reject": "merchant_handled_at",
    "ship_return": "return_shipped_at",
    "receive": "merchant_received_at",
    "auto_receive": "merchant_received_at",
    "refund": "refunded_at",
    "reship": "refunded_at",
    "auto_refund": "refunded_at",
    "intervene_refund": "refunded_at",
    "intervene_agree": "merchant_handled_at",
}


# The merchant's (or the platform's, on the merchant's behalf) answer an event records (SF-9b).
_DECISIONS = {
    "agree": MerchantDecision.AGREED,
    "auto_agree": MerchantDecision.AGREED,
    "refund": MerchantDecision.AGREED,  # refund only: agreeing is refunding
    "auto_refund": MerchantDecision.AGREED,
    "reject": MerchantDecision.REJECTED,
    "intervene_refund": MerchantDecision.AGREED,  # the platform's, on the merchant's behalf
    "intervene_agree": MerchantDecision.AGREED,
}


def act(
    session: Session,
    loaded: Loaded,
    event: str,
    *,
    actor: str,
    now: datetime,
    clause: str | None = None,
) -> None:
    """Fire ``event`` and stamp its instant on the request (refund-only: agreeing refunds)."""
    fire(
        session,
        flow.MACHINE,
        loaded.status,
        event,
        subject_id=loaded.request.aftersale_id,
        actor=actor,
        merchant_id=loaded.request.merchant_id,
        at=now,
        clause=clause,
    )
    stamp = _STAMPS.get(event)
    if stamp is not None and getattr(loaded.request, stamp) is None:
        setattr(loaded.request, stamp, now)
    decision = _DECISIONS.get(event)
    if decision is not None and loaded.request.merchant_decision is None:
        loaded.request.merchant_decision = decision.value
    refunds = ("refund", "auto_refund", "intervene_refund")
    if event in refunds and loaded.request.merchant_handled_at is None:
        loaded.request.merchant_handled_at = now
    if event in ("receive", "auto_receive") and loaded.request.return_signed_at is None:
        # a confirmed receipt proves the return was signed when no scan said so; the
        # refund limit runs from it
        loaded.request.return_signed_at = now
    session.flush()


def decide(session: Session, loaded: Loaded, *, agree: bool, actor: str, now: datetime) -> None:
    """The merchant agrees or rejects (refund only: agreeing is refunding)."""
    act(
        session,
        loaded,
        flow.merchant_event(AfterSaleType(loaded.request.type), agree),
        actor=actor,
        now=now,
    )


def finish(session: Session, loaded: Loaded, *, actor: str, now: datetime) -> None:
    """After receipt: refund a return, re-ship an exchange."""
    kind = AfterSaleType(loaded.request.type)
    act(
        session,
        loaded,
        "reship" if kind is AfterSaleType.EXCHANGE else "refund",
        actor=actor,
        now=now,
    )


def intervene(
    session: Session,
    rules: Rules,
    loaded: Loaded,
    kind: AfterSaleIntervention,
    *,
    actor: str,
    now: datetime,
) -> bool:
    """The platform steps into the request (VF-8a), recorded against it and audited; False
    when the same intervention is already recorded (idempotent), ``Conflict`` for another."""
    recorded = loaded.request.intervention
    if recorded is not None:
        if recorded == kind.value:
            return False
        raise Conflict(f"request {loaded.request.aftersale_id} already has the intervention "
                       f"{recorded}", clause="VF-8a", field="intervention")  # fmt: skip
    domain = _domain(session, loaded)
    allowed = flow.intervention_allowed(rules, domain.order)
    event = flow.intervention_event(kind, domain)
    _claim_intervention(session, loaded.request, kind, now)
    if event is not None:
        act(session, loaded, event, actor=actor, now=now, clause=allowed.clause_id)
    audit(
        session,
        actor=actor,
        action="after_sale.intervene",
        entity=flow.WORKFLOW,
        entity_id=loaded.request.aftersale_id,
        merchant_id=loaded.request.merchant_id,
        clause=allowed.clause_id,
        detail={
            "order_id": loaded.request.order_id,
            "intervention": kind.value,
            "to": loaded.status.state,
        },
        at=now,
    )
    session.flush()
    return True


def _claim_intervention(
    session: Session, request: AfterSale, kind: AfterSaleIntervention, now: datetime
) -> None:
    """Record the intervention only on a request without one (a guarded UPDATE, as ``fire``'s
    version): of two at once, the second waits for the first's row lock, then matches nothing
    and is a ``Conflict`` (an intervention that steps nothing has no version to guard)."""
    claimed = session.execute(
        update(AfterSale)
        .where(AfterSale.aftersale_id == request.aftersale_id, AfterSale.intervention.is_(None))
        .values(intervention=kind.value, intervened_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise Conflict(f"request {request.aftersale_id} got another intervention meanwhile; "
                       "reload and retry", clause="VF-8a", field="intervention")  # fmt: skip
    set_committed_value(request, "intervention", kind.value)
    set_committed_value(request, "intervened_at", now)
    mark_written(session, [request.order_id])  # its settlement verdict reads the intervention


def due(session: Session, rules: Rules, loaded: Loaded) -> flow.Due | None:
    return flow.due(rules, _domain(session, loaded))


# A request adopted without a recorded decision: the state it was given says the answer.
_STATE_DECISION = {
    "agreed": MerchantDecision.AGREED.value,
    "return_shipped": MerchantDecision.AGREED.value,
    "received": MerchantDecision.AGREED.value,
    "rejected": MerchantDecision.REJECTED.value,
}


def _domain(session: Session, loaded: Loaded) -> flow.AfterSaleProgress:
    r = loaded.request
    return flow.AfterSaleProgress(
        aftersale_id=r.aftersale_id,
        order_id=r.order_id,
        type=AfterSaleType(r.type),
        state=loaded.status.state,
        created_at=r.created_at,
        order=order_context(session, loaded.order),
        handled_at=r.merchant_handled_at,
        decision=r.merchant_decision or _STATE_DECISION.get(loaded.status.state),
        return_shipped_at=r.return_shipped_at,
        return_signed_at=r.return_signed_at,
        received_at=r.merchant_received_at,
    )


def sweep_timeouts(session: Session, rules: Rules, now: datetime) -> int:
    """The platform acts on every request whose limit has passed (idempotent).

    A second run finds the requests already moved on; a concurrent run loses the
    compare-and-set and skips. Each merchant-side timeout records one violation.
    """
    _ensure_states(session)
    open_ids = session.scalars(
        select(AfterSaleState.aftersale_id).where(AfterSaleState.state.in_(tuple(flow.TIMEOUTS)))
    ).all()
    acted = 0
    for aftersale_id in open_ids:
        loaded = load(session, aftersale_id, None)
        expired = flow.overdue(rules, _domain(session, loaded), now)
        if expired is None:
            continue
        event = flow.timeout_event(expired.timeout, AfterSaleType(loaded.request.type))
        try:
            with session.begin_nested():
                act(session, loaded, event, actor=SWEEP_ACTOR, now=now, clause=expired.clause)
                if expired.timeout.merchant_at_fault:
                    violations.record(
                        session,
                        merchant_id=loaded.request.merchant_id,
                        order_id=loaded.request.order_id,
                        aftersale_id=aftersale_id,
                        check=expired.timeout.check.value,
                        clause=expired.clause,
                        deadline=expired.deadline,
                        source=SWEEP_ACTOR,
                        now=now,
                    )
        except (Conflict, Refusal):
            continue
        acted += 1
    return acted
