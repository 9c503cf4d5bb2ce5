"""运营 › 治理周报 (LD-5): publish a week's governance (routes and outlets below standard are
warned; those that stay poor are put under control) and read the control list.

Publishing is the CLI's ``lvyue governance --week W --state-dir DIR`` (``run_week``) on the
analytics snapshot, recorded in the governance state directory that the merchants' diagnosis
pages read (``LVYUE_DIAGNOSIS_STATE``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from lvyue.api.deps import SessionDep
from lvyue.diagnosis import kept
from lvyue.model.time import BEIJING
from lvyue.store import audit
from lvyue.web.flash import back_to, flash_message
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need, now_of

router = APIRouter()
Operator = Annotated[Caller, Depends(need("penalties:manage"))]
SHOWN = 100


@router.get("/governance", response_class=HTMLResponse)
def governance(
    request: Request,
    caller: Operator,
    week: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    from lvyue.diagnosis import DiagnosisError, parse_week
    from lvyue.diagnosis.state import GovernanceState
    from lvyue.diagnosis.weeks import week_label, week_of

    facts, state = kept.configured()
    this_week = week_of(now_of(request).astimezone(BEIJING).date())
    context: dict[str, Any] = {"title": "治理周报", "flash": flash_message(request, caller),
                               "suggested": week_label(this_week - 1), "configured": bool(
                                   facts and state)}  # fmt: skip
    if state is None:
        return page(request, "governance.html", caller, **context)
    history = GovernanceState(state).history()
    published = sorted({f.week_no for f in history}, reverse=True)
    try:
        shown = parse_week(week) if week else (published[0] if published else None)
    except DiagnosisError as error:
        shown, context["error"] = None, str(error)
    warnings = [f for f in history if f.week_no == shown and f.flagged]
    context.update(
        published=[(week_label(w), sum(f.flagged for f in history if f.week_no == w))
                   for w in published],
        week=week_label(shown) if shown is not None else None,
        warnings=warnings[:SHOWN], warned=len(warnings),
        entities=_entities(state),
    )  # fmt: skip
    return page(request, "governance.html", caller, **context)


def _entities(state: Any) -> list[dict[str, Any]]:
    """Routes and outlets now warned or under control (管控名单), controlled first."""
    import json

    path = state / "state.json"
    if not path.exists():
        return []
    entities = json.loads(path.read_text("utf-8"))["entities"]
    flagged = [e for e in entities if e["status"] != "normal"]
    return sorted(flagged, key=lambda e: (e["status"] != "controlled", e["kind"], e["key"]))


@router.post("/governance/publish")
def publish(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("penalties:manage"))],
    week: Annotated[str, Form(max_length=10)],
) -> Response:
    """发布周报: compute the week's findings and record them (re-publishing replaces them)."""
    import lvyue.diagnosis as dx

    facts, state = kept.configured()
    if facts is None or state is None:
        return back_to("/console/governance", caller, done="未配置诊断数据与状态目录")
    try:
        report = dx.run_week(dx.load_source(facts), dx.parse_week(week), state)
    except dx.ERRORS as error:
        return back_to("/console/governance", caller, done=f"未发布：{error}")
    audit(session, actor=caller.principal.account_id, action="governance.publish",
          entity="week", entity_id=report.label,
          detail={"warnings": len(report.warnings), "controlled": len(report.newly_controlled),
                  "lifted": len(report.lifted)})  # fmt: skip
    session.commit()
    done = (f"已发布 {report.label}：预警 {len(report.warnings)} 条，新增管控 "
            f"{len(report.newly_controlled)}，解除 {len(report.lifted)}")  # fmt: skip
    return back_to("/console/governance", caller, done=done, week=report.label)
