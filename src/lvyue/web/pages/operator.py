"""运营后台: the dashboard (from the live verdicts the worker keeps) and the rule centre."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lvyue.api.deps import SessionDep
from lvyue.engine.online import DEFAULT_HORIZON
from lvyue.model.enums import VerdictStatus
from lvyue.store.live_tables import LiveVerdict
from lvyue.store.workflow_tables import Violation
from lvyue.web.charts import FONT
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


@dataclass(frozen=True)
class Counts:
    """The dashboard's aggregates over every live verdict and recorded violation."""

    by_check: list[tuple[str, str, int]]  # check, status, verdicts
    per_day: list[tuple[str, str, int]]  # UTC day, check, violations
    top: list[tuple[str, int]]  # merchant, violations
    counted_at: float  # monotonic seconds


COUNTS_TTL = 60.0  # seconds: a full count of millions of verdicts is not a per-request query
_counts: dict[str, Counts] = {}
_counts_lock = threading.Lock()


def _count(session: Session) -> Counts:
    by_check = session.execute(
        select(LiveVerdict.check, LiveVerdict.status, func.count())
        .group_by(LiveVerdict.check, LiveVerdict.status)
    ).all()  # fmt: skip
    day = func.date(Violation.detected_at)
    per_day = session.execute(
        select(day, Violation.check, func.count()).group_by(day, Violation.check).order_by(day)
    ).all()
    top = session.execute(
        select(Violation.merchant_id, func.count().label("n"))
        .group_by(Violation.merchant_id)
        .order_by(func.count().desc(), Violation.merchant_id)
        .limit(10)
    ).all()
    return Counts(
        [(str(c), str(s), int(n)) for c, s, n in by_check],
        [(str(d), str(c), int(n)) for d, c, n in per_day],
        [(str(m), int(n)) for m, n in top],
        time.monotonic(),
    )


def counts(session: Session, url: str) -> Counts:
    """The aggregates, counted at most once per ``COUNTS_TTL`` per database."""
    with _counts_lock:
        kept = _counts.get(url)
        if kept is None or time.monotonic() - kept.counted_at > COUNTS_TTL:
            kept = _counts[url] = _count(session)
        return kept


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, caller: Operator) -> Response:
    from lvyue.store import live

    now = now_of(request)
    data = counts(session, str(session.get_bind().engine.url))
    _, due_soon = live.at_risk(session, None, now, horizon=DEFAULT_HORIZON, limit=0)
    return page(
        request,
        "dashboard.html",
        caller,
        title="运营看板",
        by_check=_by_check_chart(data.by_check),
        over_time=_over_time_chart(data.per_day),
        top=data.top,
        due_soon=due_soon,
        verdicts=sum(n for _, _, n in data.by_check),
        counted_seconds_ago=int(time.monotonic() - data.counted_at),
        violations=sum(n for _, n in data.top),
    )


def _by_check_chart(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    counted = {(c, s): n for c, s, n in rows}
    checks = sorted({c for c, _, _ in rows})
    statuses = [s.value for s in VerdictStatus if any(k[1] == s.value for k in counted)]
    series = [
        {"name": STATUS_LABELS.get(s, s), "type": "bar", "stack": "all",
         "itemStyle": {"color": STATUS_COLOURS.get(s, "#8a8f99")},
         "data": [counted.get((c, s), 0) for c in checks]}
        for s in statuses
    ]  # fmt: skip
    return _bar("实时判定（按检查与状态）Live verdicts", checks, series, "判定数（条）")


def _over_time_chart(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    day_labels = sorted({d for d, _, _ in rows})[-30:]
    per_day = {(d, c): n for d, c, n in rows}
    day_checks = sorted({c for _, c, _ in rows})
    chart = _bar(
        "每日记录的违规（UTC 日期，按检查）",
        day_labels,
        [
            {"name": c, "type": "line", "data": [per_day.get((d, c), 0) for d in day_labels]}
            for c in day_checks
        ],
        "违规数（条）",
    )
    chart["xAxis"]["name"] = "日期"
    if not day_labels:
        chart["graphic"] = {"type": "text", "left": "center", "top": "middle",
                            "style": {"text": "暂无已记录的违规（worker 的 sweep 记录违规）",
                                      "fontSize": 14}}  # fmt: skip
    return chart


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
