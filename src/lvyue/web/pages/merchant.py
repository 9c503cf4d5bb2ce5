"""售后 and 岗位管理: the merchant's remaining back-office pages (物流诊断: ``diagnosis``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.after_sales import _after_sale_out
from lvyue.store import Account, Position, audit
from lvyue.store.accounts import AccountError, assign_positions, position_permissions, set_position
from lvyue.store.permissions import GRANTABLE, PERMISSIONS, Role
from lvyue.store.tables import AfterSale
from lvyue.web.flash import back_to, flash_message
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need
from lvyue.workflows.actions import after_sales as aftersale_actions
from lvyue.workflows.after_sales import MACHINE as AFTERSALE_MACHINE

router = APIRouter()


@router.get("/after-sales", response_class=HTMLResponse)
def after_sales(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("after_sales:handle"))],
) -> Response:
    """Requests, newest first, with the running step's deadline and what may happen now."""
    merchant = caller.principal.merchant_id
    ids = session.scalars(
        select(AfterSale.aftersale_id)
        .where(AfterSale.merchant_id == merchant)
        .order_by(AfterSale.created_at.desc(), AfterSale.aftersale_id)
        .limit(100)
    ).all()
    rows = []
    for aftersale_id in ids:
        loaded = aftersale_actions.load(session, aftersale_id, merchant)
        out = _after_sale_out(session, loaded)
        rows.append((out, AFTERSALE_MACHINE.events_from(out.state)))
    session.commit()  # states derived for ingested requests are kept (as the API does)
    return page(request, "after_sales.html", caller, title="售后", rows=rows)


def _positions(session: SessionDep, merchant: str | None) -> list[tuple[Position, list[str]]]:
    rows = session.scalars(
        select(Position).where(Position.merchant_id == merchant).order_by(Position.position_id)
    ).all()
    return [(p, position_permissions(session, p.position_id)) for p in rows]


@router.get("/positions", response_class=HTMLResponse)
def positions(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(need("accounts:manage"))],
) -> Response:
    merchant = caller.principal.merchant_id
    accounts = session.scalars(
        select(Account)
        .where(Account.merchant_id == merchant, Account.role == Role.MERCHANT_SUB.value)
        .order_by(Account.account_id)
    ).all()
    held = {a.account_id: _held(session, a.account_id) for a in accounts}
    return page(
        request,
        "positions.html",
        caller,
        title="岗位管理",
        positions=_positions(session, merchant),
        accounts=accounts,
        held=held,
        grantable=sorted(GRANTABLE),
        meanings=PERMISSIONS,
        flash=flash_message(request, caller),
        error=flash_message(request, caller, "error"),
    )


def _held(session: SessionDep, account_id: str) -> set[int]:
    from lvyue.store import AccountPosition

    return set(
        session.scalars(
            select(AccountPosition.position_id).where(AccountPosition.account_id == account_id)
        )
    )


@router.post("/positions")
async def save_position(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("accounts:manage"))],
    name: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    """Create or redefine a position with exactly the ticked permissions (``PUT /positions``)."""
    form = await request.form()
    chosen = [str(v) for v in form.getlist("permissions")]
    merchant = caller.principal.merchant_id or ""
    try:
        position = set_position(session, merchant, name, chosen)
    except AccountError as error:
        session.rollback()
        return back_to("/console/positions", caller, error=str(error))
    audit(session, actor=caller.principal.account_id, action="position.set", entity="position",
          entity_id=str(position.position_id), merchant_id=merchant,
          detail={"name": name, "permissions": sorted(chosen)})  # fmt: skip
    session.commit()
    return back_to("/console/positions", caller, done=f"岗位 {name} 已保存")


@router.post("/positions/assign/{account_id}")
async def assign(
    account_id: str,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("accounts:manage"))],
) -> Response:
    """Give a sub-account exactly the ticked positions (``PUT /accounts/{id}/positions``)."""
    from lvyue.api.auth import own_merchant

    account = session.get(Account, account_id)
    own_merchant(caller.principal, account.merchant_id if account else None)
    assert account is not None
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("position_ids") if str(v).isdigit()]
    try:
        assign_positions(session, account, ids)
    except AccountError as error:
        session.rollback()
        return back_to("/console/positions", caller, error=str(error))
    audit(session, actor=caller.principal.account_id, action="account.positions",
          entity="account", entity_id=account_id, merchant_id=account.merchant_id,
          detail={"positions": ids})  # fmt: skip
    session.commit()
    return back_to("/console/positions", caller, done=f"{account_id} 的岗位已更新")
