"""Jinja2 rendering: the package's templates, Beijing time at the edge, the navigation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from lvyue.model import format_beijing
from lvyue.web.security import Caller, now_of

# (label, path, permission): the side navigation; an item shows only to who may open it.
MERCHANT_NAV = (
    ("履约看板", "/console/orders", "orders:view"),
    ("违规与处罚", "/console/violations", "penalties:view"),
    ("报备中心", "/console/reports", "reports:file"),
    ("BTAS质检", "/console/btas", "inspection:manage"),
    ("售后", "/console/after-sales", "after_sales:handle"),
    ("物流诊断", "/console/diagnosis", "logistics_diagnosis:view"),
    ("可达查询", "/console/diagnosis/reachability", "logistics_diagnosis:view"),
    ("岗位管理", "/console/positions", "accounts:manage"),
    ("审计日志", "/console/audit", "audit:view"),
)
OPERATOR_NAV = (
    ("运营看板 Dashboard", "/console/dashboard", "penalties:view"),
    ("规则中心", "/console/rules", "penalties:view"),
    ("治理周报 Governance", "/console/governance", "penalties:manage"),
    ("报备审核", "/console/review", "reports:review"),
    ("违规与处罚", "/console/violations", "penalties:view"),
    ("处置措施 Measures", "/console/measures", "penalties:manage"),
    ("隔离区 Quarantine", "/console/quarantine", "quarantine:manage"),
    ("审计日志 Audit", "/console/audit", "audit:view"),
    ("订单", "/console/orders", "orders:view"),
)
AGENCY_NAV = (("BTAS质检", "/console/btas", "inspection:inspect"),)

STATUS_LABELS = {
    "ok": "合规 ok",
    "violated": "违规 violated",
    "pending": "待处理 pending",
    "at_risk": "临期 at_risk",
    "exempted": "豁免 exempted",
    "scheduled": "已排期 scheduled",
    "not_applicable": "不适用",
}


def beijing(moment: datetime | None) -> str:
    return "" if moment is None else format_beijing(moment)


# A verdict's status badge and deadline cell: Python, not Jinja macros — a list page draws
# hundreds, and a macro call costs several times a function call (the orders board's p95).
def badge(status: Any) -> Markup:
    """``status`` (a ``VerdictStatus`` or its value) as a coloured, labelled badge."""
    value = getattr(status, "value", status)
    label = STATUS_LABELS.get(value, value)
    return Markup(f'<span class="status status-{escape(value)}">{escape(label)}</span>')


def deadline(verdict: Any) -> Markup:
    """A verdict's deadline in Beijing time, with a countdown while it is still open."""
    if verdict.deadline is None:
        return Markup('<span class="muted">—</span>')
    cell = escape(format_beijing(verdict.deadline))
    if getattr(verdict.status, "value", verdict.status) in ("pending", "at_risk"):
        moment = escape(verdict.deadline.isoformat())
        cell += Markup(f'<br><span class="countdown" data-deadline="{moment}"></span>')
    return cell


env = Environment(
    loader=PackageLoader("lvyue.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["beijing"] = beijing
env.globals["STATUS_LABELS"] = STATUS_LABELS
env.globals["badge"] = badge
env.globals["deadline"] = deadline


def nav_for(caller: Caller | None) -> list[tuple[str, str]]:
    if caller is None:
        return []
    # Every item shows: opening one without its permission names the permission (LD-9).
    items: tuple[tuple[str, str, str], ...]
    if caller.principal.merchant_id is not None:
        items = MERCHANT_NAV
    else:
        items = OPERATOR_NAV if caller.is_operator else AGENCY_NAV
    return [(label, path) for label, path, _ in items]


def page(
    request: Request,
    template: str,
    caller: Caller | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    nav = nav_for(caller)
    path = request.url.path
    inside = [href for _, href in nav if path == href or path.startswith(href + "/")]
    html = env.get_template(template).render(
        request=request,
        caller=caller,
        nav=nav,
        path=path,
        current=max(inside, key=len, default=None),  # the deepest menu item holding the page
        business_now=now_of(request),  # the countdowns' clock (the demo clock when set)
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
