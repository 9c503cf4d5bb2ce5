"""The console's front door: each role lands on its main page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from lvyue.web.security import CallerDep

router = APIRouter()


@router.get("/")
def home(caller: CallerDep) -> Response:
    if caller.is_operator:
        target = "/console/dashboard"
    elif caller.principal.merchant_id is None:
        target = "/console/btas"  # the inspection agency's page
    else:
        target = "/console/orders"
    return RedirectResponse(target, status_code=303)
