"""违规与处罚: recorded violations (keyset-paginated, filterable, exportable), the DR-6
penalty ledger computed by the engine, and the measures (措施) in force."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from lvyue.api.deps import SessionDep
from lvyue.model.enums import Check
from lvyue.store.workflow_tables import Violation
from lvyue.web.lists import EXPORT_CAP, PAGE_SIZE, Sort, after, export, page_of
from lvyue.web.pages.common import scope_of
from lvyue.web.render import page
from lvyue.web.security import Caller, need, now_of
from lvyue.workflows import config
from lvyue.workflows.actions import measures as measure_actions
from lvyue.workflows.actions import penalties as penalty_actions

router = APIRouter()
View = Annotated[Caller, Depends(need("penalties:view"))]
HEADER = ["violation_id", "merchant_id", "order_id", "aftersale_id", "check", "clause",
          "deadline (北京时间)", "detected_at (北京时间)", "source"]  # fmt: skip


@router.get("/violations", response_class=HTMLResponse)
def violations(
    request: Request,
    session: SessionDep,
    caller: View,
    merchant: Annotated[str | None, Query(max_length=64)] = None,
    check: Annotated[str | None, Query(max_length=64)] = None,
    sort: Literal["detected_desc", "detected_asc", "deadline_desc"] = "detected_desc",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    format: Literal["html", "csv", "xlsx"] = "html",
) -> Response:
    scope = scope_of(caller, merchant or None)
    query = select(Violation)
    if scope is not None:
        query = query.where(Violation.merchant_id == scope)
    if check:
        query = query.where(Violation.check == check)
    key = Violation.deadline if sort == "deadline_desc" else Violation.detected_at
    order = Sort(key, Violation.violation_id, descending=sort != "detected_asc")
    query = after(query, order, cursor)
    if format != "html":
        rows = session.scalars(query.limit(EXPORT_CAP)).all()
        return export("violations", HEADER, (_cells(v) for v in rows), format)
    rows = session.scalars(query.limit(PAGE_SIZE + 1)).all()
    shown = page_of(rows, PAGE_SIZE, lambda v: (getattr(v, key.key), v.violation_id))
    measures = measure_actions.of_merchant(session, scope)[-50:]
    return page(
        request,
        "violations.html",
        caller,
        title="违规与处罚",
        violations=shown.rows,
        next_cursor=shown.next_cursor,
        filters={"merchant": merchant or "", "check": check or "", "sort": sort},
        checks=[c.value for c in Check],
        measures=measures,
        scope=scope,
    )


@router.get("/violations/ledger", response_class=HTMLResponse)
def ledger(
    request: Request,
    session: SessionDep,
    caller: View,
    merchant: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The DR-6 ledger of one merchant (htmx fragment: it prices every recorded late
    shipment through the engine, so it loads after the list)."""
    scope = scope_of(caller, merchant or None)
    if scope is None:  # every merchant's ledger at once is a report, not a page
        return HTMLResponse('<p class="muted">按店铺筛选后显示处罚台账。</p>')
    rows = penalty_actions.of_merchant(session, config.rules(), scope, now_of(request))
    return page(request, "ledger.html", caller, ledger=rows)


def _cells(v: Violation) -> list[object]:
    return [v.violation_id, v.merchant_id, v.order_id, v.aftersale_id, v.check, v.clause,
            v.deadline, v.detected_at, v.source]  # fmt: skip
