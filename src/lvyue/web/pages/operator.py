"""运营后台: the dashboard and the rule centre (规则中心)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from lvyue.api.deps import SessionDep
from lvyue.model.enums import VerdictStatus
from lvyue.store.workflow_tables import Violation
from lvyue.web.charts import FONT
from lvyue.web.pages.orders import AT_RISK_SCAN, LIVE, _orders_query, verdicts_of
from lvyue.web.render import STATUS_LABELS, page
from lvyue.web.security import Caller, need, now_of
from lvyue.workflows import config

router = APIRouter()
Operator = Annotated[Caller, Depends(need("penalties:manage"))]
STATUS_COLOURS = {"ok": "#1a7f37", "violated": "#c62828", "pending": "#1456c7",
                  "scheduled": "#5b8def", "at_risk": "#b26a00", "exempted": "#6b4fbb"}  # fmt: skip


def _bar(
    title: str, categories: list[str], series: list[dict[str, Any]], unit: str
) -> dict[str, Any]:
    return {
        "animation": False,  # a report, not a show: drawn at once (and screenshots agree)
        "textStyle": {"fontFamily": FONT},
        "title": {"text": title, "left": 10, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 28, "type": "scroll"},
        "grid": {"top": 80, "left": 60, "right": 20, "bottom": 90},
        "xAxis": {"type": "category", "data": categories, "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": unit},
        "series": series,
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, caller: Operator) -> Response:
    now = now_of(request)
    query, _ = _orders_query(None, "all", "pay_desc", None)
    orders = session.scalars(query.limit(AT_RISK_SCAN)).all()
    counts: Counter[tuple[str, str]] = Counter()
    due_soon = 0
    for verdicts in verdicts_of(session, orders, now):
        for v in verdicts:
            counts[(v.check.value, v.status.value)] += 1
            soon = v.deadline is not None and now <= v.deadline <= now + timedelta(hours=12)
            due_soon += v.status in LIVE and soon
    checks = sorted({c for c, _ in counts})
    statuses = [s.value for s in VerdictStatus if any(k[1] == s.value for k in counts)]
    by_check = _bar(
        f"最新 {len(orders)} 个订单的判定（按检查与状态）",
        checks,
        [
            {
                "name": STATUS_LABELS.get(s, s),
                "type": "bar",
                "stack": "all",
                "itemStyle": {"color": STATUS_COLOURS.get(s, "#8a8f99")},
                "data": [counts[(c, s)] for c in checks],
            }
            for s in statuses
        ],
        "判定数（条）",
    )
    days = session.execute(
        select(func.date(Violation.detected_at), Violation.check, func.count())
        .group_by(func.date(Violation.detected_at), Violation.check)
        .order_by(func.date(Violation.detected_at))
    ).all()
    day_labels = sorted({str(d) for d, _, _ in days})[-30:]
    per_day = {(str(d), c): n for d, c, n in days}
    day_checks = sorted({c for _, c, _ in days})
    over_time = _bar(
        "每日记录的违规（UTC 日期，按检查）",
        day_labels,
        [
            {"name": c, "type": "line", "data": [per_day.get((d, c), 0) for d in day_labels]}
            for c in day_checks
        ],
        "违规数（条）",
    )
    if not day_labels:
        over_time["graphic"] = {"type": "text", "left": "center", "top": "middle",
                                "style": {"text": "暂无已记录的违规（worker 的 sweep 记录违规）",
                                          "fontSize": 14}}  # fmt: skip
    top = session.execute(
        select(Violation.merchant_id, func.count().label("n"))
        .group_by(Violation.merchant_id)
        .order_by(func.count().desc(), Violation.merchant_id)
        .limit(10)
    ).all()
    return page(
        request,
        "dashboard.html",
        caller,
        title="运营看板",
        by_check=by_check,
        over_time=over_time,
        top=top,
        due_soon=due_soon,
        scanned=len(orders),
        violations=sum(n for _, n in top),
    )


@router.get("/rules", response_class=HTMLResponse)
def rules_centre(request: Request, caller: Operator) -> Response:
    rules = config.rules()
    conflicts, ties = rules.check()
    windows = [c for c in rules.clauses if c.effective.start or c.effective.end]
    return page(
        request,
        "rules.html",
        caller,
        title="规则中心",
        announcements=rules.announcements,
        clauses=rules.clauses,
        conflicts=conflicts,
        ties=ties,
        timeline=_timeline(windows),
    )


def _timeline(clauses: list[Any]) -> dict[str, Any]:
    """Effective windows (window ∩ version validity) as thick segments, one row per clause
    version; an open end is drawn to the last instant any clause names, and says so."""
    windows = [(c, c.effective) for c in clauses]
    known = [m for _, w in windows for m in (w.start, w.end) if m is not None]
    if not known:
        return {}
    first, last = min(known), max(known)
    series = []
    labels = []
    for c, w in windows:
        label = f"{c.id}{' (' + c.revision + ')' if c.revision else ''} · {_clock(c)}"
        labels.append(label)
        start, end = w.start or first, w.end or last
        series.append({
            "type": "line", "name": label, "symbolSize": 6, "lineStyle": {"width": 8},
            "data": [[int(start.timestamp() * 1000), label], [int(end.timestamp() * 1000), label]],
            "tooltip": {"formatter": f"{label}: {w.describe()}"},
        })  # fmt: skip
    return {
        "animation": False,  # a report, not a show: drawn at once (and screenshots agree)
        "textStyle": {"fontFamily": FONT},
        "title": {
            "text": "条款生效窗口 Effective windows（开放端画到最后一个已知时刻）",
            "textStyle": {"fontSize": 14},
        },
        "tooltip": {"trigger": "item"},
        "grid": {"top": 80, "left": 230, "right": 40, "bottom": 30},
        "xAxis": {
            "type": "time",
            "name": "日期（北京时间）",
            "position": "top",
            "nameLocation": "middle",
            "nameGap": 28,
        },
        "yAxis": {
            "type": "category",
            "data": labels,
            "name": "条款 · 时钟",
            "nameLocation": "start",
        },
        "series": series,
    }


def _clock(clause: Any) -> str:
    clock = clause.clock
    return str(getattr(clock, "value", clock))
