"""Workflow routes: BTAS inspection, report centre, delayed-shipping tool, after-sales,
violations and measures, settlement and verdicts. Presentation only: each handler checks the
permission and the tenant, calls ``lvyue.workflows.actions`` and commits.

Refusals by a rule answer 422 (409 for a state conflict) with ``{"error", "clause",
"field"}``; another tenant's object is 404.
"""

from fastapi import APIRouter

from lvyue.api.routes_workflows import (
    after_sales,
    delayed_shipping,
    inspection,
    orders,
    penalties,
    reports,
)

router = APIRouter()
for _module in (inspection, reports, delayed_shipping, after_sales, penalties, orders):
    router.include_router(_module.router)

__all__ = ["router"]
