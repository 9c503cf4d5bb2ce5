"""Creators (达人) and VF-9's logistics claims: guarded by ``claims:view``. A creator account
(its organisation is its ``creator_id``) sees only its own promotions' claims and measures; a
merchant account the claims made on its own products (creators' and its own listings') and its
own measures; operators everything (or one ``creator_id`` / ``merchant_id``). Business logic
lives in lvyue.indicators.creators; the data is the service's own (orders, scans, promotions
posted to it), or the snapshot ``LVYUE_INDICATOR_FACTS`` names."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, merchant_scope, require
from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.common import PageDep
from lvyue.store.permissions import MERCHANT_ROLES, Role

router = APIRouter(prefix="/creators", tags=["creators"])
Viewer = Annotated[Principal, Depends(require("claims:view"))]
Id = Annotated[str | None, Query(max_length=64)]
Moment = Annotated[str | None, Query(max_length=40)]


def _scope(principal: Principal, creator_id: str | None, merchant_id: str | None) -> dict[str, str]:
    """What the caller may see, as party filters; another's asked for is 404 (never leaks)."""
    if principal.role == Role.CREATOR:
        own = principal.organisation
        if not own or (creator_id is not None and creator_id != own) or merchant_id is not None:
            raise HTTPException(404, detail="not found")
        return {"creator_id": own}
    if principal.role in MERCHANT_ROLES:
        scope = {"merchant_id": merchant_scope(principal, merchant_id) or ""}
        return scope | ({"creator_id": creator_id} if creator_id else {})
    if not principal.is_operator:
        raise HTTPException(404, detail="not found")
    return {k: v for k, v in (("creator_id", creator_id), ("merchant_id", merchant_id)) if v}


def _tables(session: Session) -> dict[str, Any]:
    """The snapshot named by ``LVYUE_INDICATOR_FACTS``, else the service's own data (as
    ``GET /indicators`` reads it): its orders, scans and the promotions posted to it."""
    import os

    from lvyue.indicators import load_tables
    from lvyue.workflows.actions.creators import with_promotions
    from lvyue.workflows.actions.indicator_facts import stored_tables

    named = os.environ.get("LVYUE_INDICATOR_FACTS")
    if named:
        return load_tables(Path(named))
    return with_promotions(session, stored_tables(session))


def _outcome(
    session: Session,
    as_of: str | None,
    since: str | None,
    until: str | None,
    periods: int | None = None,
) -> Any:
    from lvyue.facts import FactsError
    from lvyue.indicators import IndicatorError
    from lvyue.indicators.creators import build, judge_claims
    from lvyue.indicators.creators.run import measure_claims
    from lvyue.model.clock import business_now
    from lvyue.model.time import InstantError, parse_instant

    try:
        moment = parse_instant(as_of) if as_of else business_now()
        start = parse_instant(since) if since else None
        end = parse_instant(until) if until else None
        src = build(_tables(session))
        if periods is not None:
            return measure_claims(src, moment, periods, since=start, until=end)
        return judge_claims(src, moment, since=start, until=end)
    except (InstantError, IndicatorError) as error:
        raise HTTPException(422, detail=str(error)) from None
    except FactsError as error:
        raise HTTPException(503, detail=f"claim data unavailable: {error}") from None


@router.get("/claims")
def claims(
    principal: Viewer,
    session: SessionDep,
    page: PageDep,
    response: Response,
    creator_id: Id = None,
    merchant_id: Id = None,
    as_of: Moment = None,
    since: Moment = None,
    until: Moment = None,
) -> list[dict[str, Any]]:
    """Each logistics claim of each promotion (当日达, 次日达, N小时内发货, M月D日前包邮到家 …):
    the orders judged, those that did not get it, the level (normal, warn, severe, not_judged),
    the clauses that decided it and why. Orders paid from VF-9's effective day (or ``since``)
    to ``as_of`` (default: now)."""
    from lvyue.indicators.creators.report import finding_row

    scope = _scope(principal, creator_id, merchant_id)
    outcome = _outcome(session, as_of, since, until)
    rows = [
        finding_row(f)
        for f in outcome.findings
        if all(getattr(f, k) == v for k, v in scope.items())
    ]
    return page.of(rows, response)


@router.get("/measures")
def measures(
    principal: Viewer,
    session: SessionDep,
    page: PageDep,
    response: Response,
    creator_id: Id = None,
    merchant_id: Id = None,
    as_of: Moment = None,
    since: Moment = None,
    until: Moment = None,
    periods: Annotated[int, Query(ge=1, le=12)] = 5,  # as /indicators: one query each
) -> list[dict[str, Any]]:
    """The graded measures false claims lead to (a creator's, or a merchant's for its own
    listings), judged at ``periods`` period ends up to ``as_of`` (claims.period_days apart):
    by severity and repetition, each citing VF-9, its step's clause and the claims, with its
    start and its end (lifted by rule, replaced) or earliest end (``until``); a merchant sees
    its own. Proposals from the facts; those recorded: ``/creators/measures/recorded``."""
    from lvyue.indicators.creators.report import proposal_row

    scope = _scope(principal, creator_id, merchant_id)
    if principal.role in MERCHANT_ROLES and creator_id is not None:
        raise HTTPException(404, detail="not found")  # a creator's measures are its own
    party = (
        ("creator", scope["creator_id"]) if "creator_id" in scope
        else ("merchant", scope["merchant_id"]) if "merchant_id" in scope else None
    )  # fmt: skip
    outcome = _outcome(session, as_of, since, until, periods)
    rows = [
        proposal_row(p)
        for p in outcome.proposals
        if party is None or (p.party, p.party_id) == party
    ]
    return page.of(rows, response)
