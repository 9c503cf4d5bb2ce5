"""The console's pages, one module per back-office area."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from lvyue.web.pages import home, orders, reports

    return [home.router, orders.router, reports.router]
