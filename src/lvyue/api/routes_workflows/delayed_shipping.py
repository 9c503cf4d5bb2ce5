"""Delayed-shipping tool routes (SF-2, SF-4, VF-3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from lvyue.api.auth import Principal, merchant_scope, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.api.routes_workflows.common import (
    PageDep,
    domain_errors,
    merchant_of,
    service_now,
)
from lvyue.model import ShipMode, format_instant
from lvyue.store.workflow_tables import DelayedShipping
from lvyue.workflows import config
from lvyue.workflows.actions import delayed_shipping as delayed_actions
from lvyue.workflows.fields import Ident, Name


class DelayedIn(BaseModel):
    product_id: Ident
    category: Name
    ship_mode: ShipMode = ShipMode.SPOT


class DelayedOut(BaseModel):
    product_id: str
    merchant_id: str
    category: str
    ship_mode: str
    clause: str
    order_ids: list[str]
    set_at: str


def _delayed_out(row: DelayedShipping) -> DelayedOut:
    return DelayedOut(
        product_id=row.product_id,
        merchant_id=row.merchant_id,
        category=row.category,
        ship_mode=row.ship_mode,
        clause=row.clause,
        order_ids=list(row.order_ids),
        set_at=format_instant(row.set_at),
    )


router = APIRouter(prefix="/delayed-shipping", tags=["delayed-shipping"])


@router.post("", status_code=201, response_model=DelayedOut, dependencies=[Depends(json_only)])
def set_delayed_shipping(
    body: DelayedIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:ship"))],
) -> DelayedOut:
    """Set the delayed-shipping tool on a product, if an announcement window allows it."""
    with domain_errors(session):
        row = delayed_actions.set_tool(
            session,
            config.rules(),
            merchant_id=merchant_of(principal),
            product_id=body.product_id,
            category=body.category,
            ship_mode=body.ship_mode,
            actor=principal.account_id,
            now=service_now(request),
        )
        out = _delayed_out(row)
        session.commit()
    return out


@router.get("", response_model=list[DelayedOut])
def list_delayed_shipping(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:view"))],
    response: Response,
    paging: PageDep,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[DelayedOut]:
    scope = merchant_scope(principal, merchant_id)
    return [
        _delayed_out(r) for r in paging.of(delayed_actions.of_merchant(session, scope), response)
    ]
