"""After-sales workflow routes (SF-9) under /workflows/after-sales."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.api.idempotency import IdemKey
from lvyue.api.routes_workflows.common import (
    PageDep,
    create_once,
    domain_errors,
    iso,
    merchant_of,
    require_any,
    service_now,
    tenant_of,
)
from lvyue.model import format_instant
from lvyue.model.enums import AfterSaleIntervention, AfterSaleReason, AfterSaleType
from lvyue.store import AfterSale
from lvyue.store.permissions import Role
from lvyue.workflows import config
from lvyue.workflows.actions import after_sales as aftersale_actions
from lvyue.workflows.actions.orders import load_order
from lvyue.workflows.fields import Ident


class AfterSaleIn(BaseModel):
    order_id: Ident
    type: AfterSaleType
    reason: AfterSaleReason | None = Field(
        None, description="why (VF-8): defect 残次, not_as_described 描述不符, …"
    )


class DecisionIn(BaseModel):
    agree: bool


class InterventionIn(BaseModel):
    intervention: AfterSaleIntervention = Field(
        description="仅退款 refund_only, 退货退款 return_refund, 退货运费由商家承担 "
        "return_shipping_merchant (VF-8a)"
    )


class AfterSaleOut(BaseModel):
    aftersale_id: str
    order_id: str
    merchant_id: str
    type: str
    state: str
    created_at: str
    merchant_handled_at: str | None
    return_shipped_at: str | None
    merchant_received_at: str | None
    refunded_at: str | None
    intervention: str | None = Field(None, description="the platform's intervention (VF-8a)")
    intervened_at: str | None = None
    deadline: str | None = Field(description="the running limit of the current state")
    deadline_clause: str | None


def _after_sale_out(session: Session, loaded: aftersale_actions.Loaded) -> AfterSaleOut:
    r = loaded.request
    due = aftersale_actions.due(session, config.rules(), loaded)
    return AfterSaleOut(
        aftersale_id=r.aftersale_id,
        order_id=r.order_id,
        merchant_id=r.merchant_id,
        type=r.type,
        state=loaded.status.state,
        created_at=format_instant(r.created_at),
        merchant_handled_at=iso(r.merchant_handled_at),
        return_shipped_at=iso(r.return_shipped_at),
        merchant_received_at=iso(r.merchant_received_at),
        refunded_at=iso(r.refunded_at),
        intervention=r.intervention,
        intervened_at=iso(r.intervened_at),
        deadline=iso(due.deadline) if due else None,
        deadline_clause=due.clause if due else None,
    )


Handle = Annotated[Principal, Depends(require("after_sales:handle"))]
Intervene = Annotated[Principal, Depends(require("penalties:manage"))]  # operators only
Consumer = Annotated[Principal, Depends(require("after_sales:request"))]
SeeAfterSales = Annotated[
    Principal, Depends(require_any("after_sales:handle", "after_sales:request"))
]
router = APIRouter(
    prefix="/workflows/after-sales", tags=["after-sales"], dependencies=[Depends(json_only)]
)


def _load_request(
    session: Session, aftersale_id: str, principal: Principal
) -> aftersale_actions.Loaded:
    if principal.role == Role.CONSUMER:  # a consumer acts only on its own orders
        return aftersale_actions.load(session, aftersale_id, None, principal.account_id)
    return aftersale_actions.load(session, aftersale_id, tenant_of(principal))


@router.post("", status_code=201, response_model=AfterSaleOut)
def request_after_sale(
    body: AfterSaleIn,
    request: Request,
    session: SessionDep,
    principal: Consumer,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """A consumer requests a refund, a return or an exchange on its order."""

    def create() -> BaseModel:
        order = load_order(session, body.order_id, consumer_id=principal.account_id)
        loaded = aftersale_actions.request(
            session,
            order,
            kind=body.type,
            reason=body.reason,
            actor=principal.account_id,
            now=service_now(request),
        )
        return _after_sale_out(session, loaded)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("", response_model=list[AfterSaleOut])
def list_after_sales(
    session: SessionDep,
    principal: Handle,
    response: Response,
    paging: PageDep,
    state: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AfterSaleOut]:
    """The merchant's after-sales requests with the running deadline of each, a page at a
    time (the state filter applies before paging)."""
    query = select(AfterSale.aftersale_id).where(AfterSale.merchant_id == merchant_of(principal))
    ids = list(session.scalars(query.order_by(AfterSale.created_at, AfterSale.aftersale_id)))
    with domain_errors(session):
        loaded = [aftersale_actions.load(session, i, principal.merchant_id) for i in
                  (paging.of(ids, response) if state is None else ids)]  # fmt: skip
        if state is not None:  # the state is derived per request: filter, then page
            loaded = paging.of([x for x in loaded if x.status.state == state], response)
        page = [_after_sale_out(session, x) for x in loaded]
        session.commit()  # states derived for ingested requests are kept
    return page


@router.get("/{aftersale_id}", response_model=AfterSaleOut)
def get_after_sale(
    aftersale_id: str, session: SessionDep, principal: SeeAfterSales
) -> AfterSaleOut:
    with domain_errors(session):
        out = _after_sale_out(session, _load_request(session, aftersale_id, principal))
        session.commit()
    return out


def _after_sale_step(
    session: Session,
    aftersale_id: str,
    principal: Principal,
    act: Callable[[aftersale_actions.Loaded], None],
) -> AfterSaleOut:
    with domain_errors(session):
        loaded = _load_request(session, aftersale_id, principal)
        act(loaded)
        out = _after_sale_out(session, loaded)
        session.commit()
    return out


@router.post("/{aftersale_id}/decision", response_model=AfterSaleOut)
def decide_after_sale(
    aftersale_id: str, body: DecisionIn, request: Request, session: SessionDep, principal: Handle
) -> AfterSaleOut:
    """The merchant agrees or rejects; agreeing to a refund-only request refunds it."""
    now = service_now(request)
    return _after_sale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.decide(
            session, loaded, agree=body.agree, actor=principal.account_id, now=now
        ),
    )


@router.post("/{aftersale_id}/return-shipped", response_model=AfterSaleOut)
def return_shipped(
    aftersale_id: str, request: Request, session: SessionDep, principal: Consumer
) -> AfterSaleOut:
    """The consumer uploaded the return tracking number."""
    now = service_now(request)
    return _after_sale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.act(
            session, loaded, "ship_return", actor=principal.account_id, now=now
        ),
    )


@router.post("/{aftersale_id}/receive", response_model=AfterSaleOut)
def receive_return(
    aftersale_id: str, request: Request, session: SessionDep, principal: Handle
) -> AfterSaleOut:
    """The merchant confirms receipt of the return."""
    now = service_now(request)
    return _after_sale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.act(
            session, loaded, "receive", actor=principal.account_id, now=now
        ),
    )


@router.post("/{aftersale_id}/complete", response_model=AfterSaleOut)
def complete_after_sale(
    aftersale_id: str, request: Request, session: SessionDep, principal: Handle
) -> AfterSaleOut:
    """The merchant refunds a return or re-ships an exchange."""
    now = service_now(request)
    return _after_sale_step(
        session,
        aftersale_id,
        principal,
        lambda loaded: aftersale_actions.finish(
            session, loaded, actor=principal.account_id, now=now
        ),
    )


@router.post("/{aftersale_id}/intervention", response_model=AfterSaleOut)
def intervene(
    aftersale_id: str,
    body: InterventionIn,
    request: Request,
    session: SessionDep,
    principal: Intervene,
) -> AfterSaleOut:
    """The platform steps into the request (平台介入, VF-8a), an operator's action on the
    festival's flower orders: refund only, return and refund, or return and refund with the
    return shipping charged to the merchant. Recorded against the request, audited, shown to
    the merchant; the same intervention again changes nothing. The order's settlement verdict
    says the refund comes from the merchant's account."""
    now = service_now(request)

    def step(loaded: aftersale_actions.Loaded) -> None:
        aftersale_actions.intervene(session, config.rules(), loaded, body.intervention,
                                    actor=principal.account_id, now=now)  # fmt: skip

    return _after_sale_step(session, aftersale_id, principal, step)
