"""The live verdicts (kept current by ``lvyue worker``): the at-risk list (即将超时).

``GET /at-risk``: verdicts not done whose deadline is ahead and within the engine's at-risk
horizon, soonest first; a merchant account sees its own shop's, an operator all (or one
merchant's with ``merchant_id``). Paginated like the workflow lists (``limit``, ``offset``,
total in ``X-Total-Count``). The same definition as ``lvyue at-risk`` (``store.live``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from lvyue.api.auth import Principal, current_principal, merchant_scope, require
from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.common import PageDep, service_now
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.model import format_instant
from lvyue.store import live

_WITHIN = Query(
    gt=0,
    le=DEFAULT_HORIZON.total_seconds() / 3600,
    description="only deadlines this close, in hours (at most the at-risk horizon, 12 h)",
)
router = APIRouter(tags=["live verdicts"], dependencies=[Depends(current_principal)])


class AtRiskOut(BaseModel):
    order_id: str
    aftersale_id: str = Field(description='"" for the order\'s own checks')
    merchant_id: str
    check: str
    status: str
    deadline: str = Field(description="ISO 8601, Beijing offset like every list (format_instant)")
    seconds_left: int = Field(description="until the deadline, as of the request")
    clauses: str = Field(description="the clauses that set the deadline (GN-3)")
    reason: str
    judged_as_of: str = Field(description="the instant the verdict was judged as of")
    facts_at: str = Field(description="the last write it reflects (facts watermark)")


@router.get("/at-risk", response_model=list[AtRiskOut])
def at_risk(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("orders:view"))],
    paging: PageDep,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    within_hours: Annotated[float | None, _WITHIN] = None,
) -> list[AtRiskOut]:
    """Verdicts at risk of breaching (即将超时), soonest deadline first."""
    scope = merchant_scope(principal, merchant_id)
    now = service_now(request)
    within = timedelta(hours=within_hours) if within_hours is not None else None
    rows, total = live.at_risk(
        session,
        scope,
        now,
        horizon=DEFAULT_HORIZON,
        within=within,
        limit=paging.limit,
        offset=paging.offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [
        AtRiskOut(
            order_id=r.order_id,
            aftersale_id=r.aftersale_id,
            merchant_id=r.merchant_id,
            check=r.check,
            status=r.status,
            deadline=format_instant(r.deadline),
            seconds_left=int((r.deadline - now).total_seconds()),
            clauses=r.clauses,
            reason=r.reason,
            judged_as_of=format_instant(r.as_of),
            facts_at=format_instant(r.facts_at),
        )
        for r in rows
        if r.deadline is not None
    ]
