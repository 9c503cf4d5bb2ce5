"""物流诊断 (LD-1..LD-11): the merchant's diagnosis with its charts, this week's governance
notices on its carriers, topic analysis (behind the LD-11 rollout flag), growth centre cards
with sign-up, and the cold-start state. The API's ``/diagnosis/merchants/{id}`` answer,
read through ``lvyue.diagnosis.kept`` (computed once per facts watermark)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from lvyue.api.deps import SessionDep
from lvyue.diagnosis import kept
from lvyue.model.time import BEIJING
from lvyue.store import audit
from lvyue.web import charts
from lvyue.web.flash import back_to, flash_message
from lvyue.web.pages.common import scope_of
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need, now_of

router = APIRouter()
Viewer = Annotated[Caller, Depends(need("logistics_diagnosis:view"))]
LANES_SHOWN = 15


@router.get("/diagnosis", response_class=HTMLResponse)
def diagnosis(
    request: Request,
    caller: Viewer,
    merchant: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    import lvyue.diagnosis as dx

    scope = scope_of(caller, merchant or None)
    facts, state = kept.configured()
    context: dict[str, Any] = {"title": "物流诊断", "merchant": scope, "period": period or ""}
    context["flash"] = flash_message(request, caller)
    if scope is None:
        context["error"] = "请选择店铺（merchant）。"
    elif facts is None:
        context["error"] = "诊断数据未配置（LVYUE_DIAGNOSIS_FACTS）。"
    else:
        try:
            result = kept.diagnosis(facts, state, scope, period)
        except dx.ERRORS as error:
            context["error"] = str(error)
        else:
            context.update(_views(result, state, now_of(request)))
    return page(request, "diagnosis.html", caller, **context)


def _views(result: dict[str, Any], state: Path | None, now: Any) -> dict[str, Any]:
    import lvyue.diagnosis as dx

    views: dict[str, Any] = {"result": result}
    capability = result["capability"]
    views["columns"] = list(capability[0]) if capability else []
    if capability:
        views["chart"] = charts.capability_chart(capability)
    topic = result.get("topic")
    if topic:
        views["percentile"] = charts.percentile_chart(topic["standings"], dx.metric_label)
        views["lanes"] = topic["lanes"][:LANES_SHOWN]
        if topic["gain"]:
            views["gain"] = charts.gain_chart(topic["gain"])
    carriers = {str(r["carrier"]) for r in capability}
    views["notices"] = _notices(state, carriers, now)
    views["cards"] = _cards(result, state)
    views["metric_label"] = dx.metric_label
    views["format_column"] = dx.format_column
    return views


def _notices(state: Path | None, carriers: set[str], now: Any) -> dict[str, Any]:
    """LD-5: the newest governance week published up to this (business) week: its warnings
    and controls on routes and outlets of the merchant's carriers."""
    from lvyue.diagnosis.state import GovernanceState
    from lvyue.diagnosis.weeks import week_label, week_of

    if state is None:
        return {"week": None, "warnings": [], "controlled": []}
    governance = GovernanceState(state)
    history = governance.history()
    this_week = week_of(now.astimezone(BEIJING).date())
    weeks = sorted({f.week_no for f in history if f.week_no <= this_week})
    if not weeks:
        return {"week": None, "warnings": [], "controlled": []}
    week = weeks[-1]
    mine = [f for f in history if f.week_no == week and f.flagged and _carrier(f.key) in carriers]
    controlled = [s for s in governance.controlled().values() if _carrier(s.key) in carriers]
    return {"week": week_label(week), "this_week": week_label(this_week),
            "warnings": mine, "controlled": controlled}  # fmt: skip


def _carrier(key: str) -> str:
    return key.split("|", 1)[0]


def _cards(result: dict[str, Any], state: Path | None) -> list[dict[str, Any]]:
    """LD-8: one card per platform solution, with the diagnosis's reasons and sign-up state."""
    from lvyue.diagnosis.growth import SOLUTIONS, sign_ups

    records = sign_ups(state, result["merchant_id"]) if state else []
    signed = {r["solution"]: r["at"] for r in records}
    reasons: dict[str, list[str]] = {}
    for r in result["recommendations"]:
        reasons.setdefault(r["solution"], []).append(r["reason"])
    return [
        {"solution": key, "name": name, "reasons": reasons.get(key, []),
         "signed_at": signed.get(key)}
        for key, name in SOLUTIONS.items()
    ]  # fmt: skip


@router.post("/diagnosis/sign-up")
def sign_up(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("logistics_diagnosis:view"))],
    solution: Annotated[str, Form(max_length=64)],
) -> Response:
    """增长中心报名: a merchant signs up for a platform logistics solution (LD-8)."""
    import lvyue.diagnosis as dx

    merchant = caller.principal.merchant_id
    _, state = kept.configured()
    if merchant is None or state is None:
        return back_to("/console/diagnosis", caller, done="仅商家可报名（且需配置诊断状态目录）")
    try:
        record, new = dx.sign_up(state, merchant, solution, now_of(request))
    except dx.DiagnosisError as error:
        return back_to("/console/diagnosis", caller, done=str(error))
    if new:
        audit(session, actor=caller.principal.account_id, action="growth.sign_up",
              entity="merchant", entity_id=merchant, merchant_id=merchant,
              detail={"solution": solution})  # fmt: skip
        session.commit()
    done = f"已报名 {dx.SOLUTIONS[solution]}（{record['at']}）"
    return back_to("/console/diagnosis", caller, done=done)
