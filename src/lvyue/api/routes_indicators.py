"""VF-8 indicators (指标异常) per merchant and product: guarded by ``penalties:view``; a merchant
account sees only its own rows, operators every merchant's (or one, ``merchant_id``).
Business logic lives in lvyue.indicators. ``GET /indicators/measures`` proposes VF-8's graded
measures from them (as ``lvyue measures propose``); those recorded are ``GET /measures``.

The indicators read the service's own data (orders, shipments and scans, after-sales requests
with their reason, reviews, complaints: ``workflows.actions.indicator_facts``), or, when
``LVYUE_INDICATOR_FACTS`` names one, that facts directory (an analytics snapshot).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy.orm import Session

from lvyue.api.auth import Principal, merchant_scope, require
from lvyue.api.deps import SessionDep
from lvyue.api.routes_workflows.common import PageDep

router = APIRouter(prefix="/indicators", tags=["indicators"])
Viewer = Annotated[Principal, Depends(require("penalties:view"))]


def _tables(session: Session) -> dict[str, Any]:
    """The snapshot named by ``LVYUE_INDICATOR_FACTS``, else the store's data."""
    import lvyue.indicators as ind
    from lvyue.workflows.actions.indicator_facts import stored_tables

    named = os.environ.get("LVYUE_INDICATOR_FACTS")
    return ind.load_tables(Path(named)) if named else stored_tables(session)


def _facts() -> Path:
    named = os.environ.get("LVYUE_INDICATOR_FACTS") or os.environ.get("LVYUE_DIAGNOSIS_FACTS")
    if not named:
        raise HTTPException(503, detail="indicator data not configured (LVYUE_INDICATOR_FACTS)")
    return Path(named)


@router.get("")
def indicators(
    principal: Viewer,
    session: SessionDep,
    page: PageDep,
    response: Response,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    as_of: Annotated[str | None, Query(max_length=40, description="default: now")] = None,
    by: Literal["merchant", "product"] = "merchant",
    festival: Annotated[
        str | None, Query(max_length=32, description="a clause whose orders are judged: VF-8")
    ] = None,
    periods: Annotated[int, Query(ge=1, le=12)] = 1,
) -> list[dict[str, Any]]:
    """Each indicator's value, industry median, level (normal, warn, severe, not_judged), the
    clauses that decided it and why, per period end (rolling periods back from ``as_of``)."""
    scope = merchant_scope(principal, merchant_id)
    import lvyue.indicators as ind
    from lvyue.facts import FactsError
    from lvyue.indicators.report import LABELS
    from lvyue.model.clock import business_now
    from lvyue.model.time import InstantError, parse_instant

    try:
        moment = parse_instant(as_of) if as_of else business_now()
        src = ind.build(_tables(session))
        plan = ind.festival(festival, moment, periods) if festival else ind.rolling(moment, periods)
        judged = ind.evaluate(src, plan, by_product=by == "product")
    except (InstantError, ind.IndicatorError) as error:
        raise HTTPException(422, detail=str(error)) from None
    except FactsError as error:
        raise HTTPException(503, detail=f"indicator data unavailable: {error}") from None
    rows = [
        {
            "period_end": j.period_end.isoformat(),
            "pay_start": j.pay_start.isoformat(),
            "pay_end": j.pay_end.isoformat(),
            "merchant_id": j.merchant_id,
            "product_id": j.product_id,
            "industry": j.industry,
            "orders": j.orders,
            "reviews": j.reviews,
            "findings": [
                {
                    "indicator": f.indicator,
                    "label": LABELS[f.indicator],
                    "value": f.value,
                    "peer_median": f.peer_median,
                    "level": f.level,
                    "clauses": list(f.clauses),
                    "why": f.why,
                }
                for f in j.findings.values()
            ],
        }
        for j in judged
        if scope is None or j.merchant_id == scope
    ]
    return page.of(rows, response)


@router.get("/measures")
def measures(
    principal: Viewer,
    session: SessionDep,
    page: PageDep,
    response: Response,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    as_of: Annotated[str | None, Query(max_length=40, description="default: now")] = None,
    periods: Annotated[int, Query(ge=1, le=12)] = 5,
) -> list[dict[str, Any]]:
    """VF-8's graded measures for its festival orders, judged at ``periods`` period ends up to
    ``as_of`` (warning → delisting → order limits → extended settlement → suspension →
    removal, by severity and repetition): each citing VF-8, its step's clause and the
    indicators' clauses, with the reason, its start and its end (lifted by rule, replaced) or
    earliest end (``until``). A merchant sees its own. Proposals: the worker records them
    (daily sweep ``workflows.indicator_measures``); the recorded ones are ``GET /measures``."""
    scope = merchant_scope(principal, merchant_id)
    import lvyue.indicators as ind
    from lvyue.facts import FactsError
    from lvyue.indicators.measures import measures_for
    from lvyue.indicators.report import proposal_row
    from lvyue.model.clock import business_now
    from lvyue.model.time import InstantError, parse_instant

    try:
        moment = parse_instant(as_of) if as_of else business_now()
        outcome = measures_for(ind.build(_tables(session)), moment, periods)
    except (InstantError, ind.IndicatorError) as error:
        raise HTTPException(422, detail=str(error)) from None
    except FactsError as error:
        raise HTTPException(503, detail=f"indicator data unavailable: {error}") from None
    rows = [proposal_row(p) for p in outcome.proposals if scope is None or p.merchant_id == scope]
    return page.of(rows, response)
