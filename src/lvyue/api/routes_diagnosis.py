"""Logistics diagnosis endpoints (LD-2, LD-9): guarded by ``logistics_diagnosis:view``; a
merchant account sees only its own diagnosis. Business logic lives in lvyue.diagnosis.

The diagnosis reads the analytics snapshot, a facts directory named by
``LVYUE_DIAGNOSIS_FACTS`` (with the governance state in ``LVYUE_DIAGNOSIS_STATE``, optional).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from lvyue.api.auth import Principal, own_merchant, require

router = APIRouter(prefix="/diagnosis", tags=["diagnosis"])
Viewer = Annotated[Principal, Depends(require("logistics_diagnosis:view"))]


@router.get("/reachability")
def reachability(
    principal: Viewer,
    carrier: str | None = None,
    address: str | None = None,
    province: str | None = None,
    city: str | None = None,
    district: str | None = None,
    on: Annotated[date | None, Query(description="default: today (Beijing)")] = None,
) -> dict[str, Any]:
    """A carrier's unreachable areas (LD-4), or whether it reaches a full address."""
    import lvyue.diagnosis as dx
    from lvyue.model.clock import business_now
    from lvyue.model.time import BEIJING

    day = on or business_now().astimezone(BEIJING).date()
    rules = dx.load_coverage()
    try:
        if address:
            if not carrier:
                raise dx.DiagnosisError("address needs a carrier")
            verdict = dx.query_address(rules, carrier, address, day)
            return {
                "date": day.isoformat(),
                "carrier": carrier,
                "region": [verdict.province, verdict.city, verdict.district],
                "reachable": verdict.reachable,
                "rules": [r.as_row() for r in verdict.rules],
            }
        found = dx.query_region(rules, carrier, day, province, city, district)
    except dx.DiagnosisError as error:
        raise HTTPException(422, detail=str(error)) from None
    return {"date": day.isoformat(), "rules": [r.as_row() for r in found]}


@router.get("/merchants/{merchant_id}")
def merchant_diagnosis(
    merchant_id: str,
    principal: Viewer,
    period: Annotated[str | None, Query(description="YYYY-MM-DD..YYYY-MM-DD")] = None,
) -> dict[str, Any]:
    """The merchant's diagnosis (LD-1..LD-11), as the CLI's ``lvyue diagnose`` shows it."""
    own_merchant(principal, merchant_id)
    import lvyue.diagnosis as dx
    from lvyue.diagnosis import kept

    facts, state = kept.configured()
    if facts is None:
        raise HTTPException(503, detail="diagnosis data not configured (LVYUE_DIAGNOSIS_FACTS)")
    try:
        result = dx.diagnose_facts(facts, merchant_id, period, state)
    except dx.DiagnosisError as error:
        status = 404 if "no orders" in str(error) else 422
        raise HTTPException(status, detail=str(error)) from None
    except dx.ERRORS as error:
        raise HTTPException(503, detail=f"diagnosis data unavailable: {error}") from None
    return kept.body_of(result)
