"""The console's pages, one module per back-office area."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from lvyue.web.pages import btas, home, operator, orders, penalties, reports

    return [home.router, orders.router, reports.router, btas.router, penalties.router,
            operator.router]  # fmt: skip
