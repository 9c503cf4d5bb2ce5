"""The console's front door: each role lands on its main page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from lvyue.web.security import CallerDep

router = APIRouter()


@router.get("/")
def home(caller: CallerDep) -> Response:
    target = "/console/dashboard" if caller.is_operator else "/console/orders"
    return RedirectResponse(target, status_code=303)
