"""The console's pages, one module per back-office area."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from lvyue.web.pages import (
        diagnosis,
        governance,
        home,
        inspection,
        merchant,
        operator,
        orders,
        penalties,
        reachability,
        records,
        reports,
        rules,
    )

    return [home.router, orders.router, reports.router, inspection.router, penalties.router,
            operator.router, merchant.router, records.router, diagnosis.router,
            reachability.router, governance.router, rules.router]  # fmt: skip
