"""The console's pages, one module per back-office area."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from lvyue.web.pages import (
        home,
        inspection,
        merchant,
        operator,
        orders,
        penalties,
        records,
        reports,
    )

    return [home.router, orders.router, reports.router, inspection.router, penalties.router,
            operator.router, merchant.router, records.router]  # fmt: skip
