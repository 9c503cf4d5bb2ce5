"""The console's pages, one module per back-office area."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from lvyue.web.pages import (
        btas,
        home,
        merchant,
        operator,
        orders,
        penalties,
        records,
        reports,
    )

    return [home.router, orders.router, reports.router, btas.router, penalties.router,
            operator.router, merchant.router, records.router]  # fmt: skip
