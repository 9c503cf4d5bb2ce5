"""可达查询 (LD-4): each carrier's unreachable areas by province, city, district or full
address, exported as CSV/XLSX, and kept as the merchant's restricted-sale areas (限售区域).

The API's ``GET /diagnosis/reachability`` answer (same functions, same permission
``logistics_diagnosis:view``), on the business date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from lvyue.api.deps import SessionDep
from lvyue.diagnosis import kept
from lvyue.model.time import BEIJING
from lvyue.store import audit
from lvyue.web.flash import back_to, flash_message
from lvyue.web.lists import export
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, need, now_of

router = APIRouter()
Viewer = Annotated[Caller, Depends(need("logistics_diagnosis:view"))]
Text = Annotated[str, Query(max_length=200)]
Setter = Annotated[Caller, Depends(acting("logistics_diagnosis:view"))]
FormText = Annotated[str, Form(max_length=200)]


@dataclass(frozen=True)
class Question:
    carrier: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""

    @property
    def asked(self) -> bool:
        return any((self.carrier, self.province, self.city, self.district, self.address))

    def query(self) -> str:
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in vars(self).items() if v})


def answer(question: Question, day: date) -> tuple[list[Any], Any]:
    """The rules in force that touch the region, or an address's verdict and its rules."""
    import lvyue.diagnosis as dx

    rules = dx.load_coverage()
    if question.address:
        if not question.carrier:
            raise dx.DiagnosisError("按地址查询需要选择承运商 (address needs a carrier)")
        verdict = dx.query_address(rules, question.carrier, question.address, day)
        return list(verdict.rules), verdict
    found = dx.query_region(rules, question.carrier or None, day, question.province or None,
                            question.city or None, question.district or None)  # fmt: skip
    return found, None


def _day(request: Request) -> date:
    return now_of(request).astimezone(BEIJING).date()


@router.get("/diagnosis/reachability", response_class=HTMLResponse)
def reachability(
    request: Request,
    caller: Viewer,
    carrier: Text = "",
    province: Text = "",
    city: Text = "",
    district: Text = "",
    address: Annotated[str, Query(max_length=500)] = "",
    format: Literal["html", "csv", "xlsx"] = "html",
) -> Response:
    import lvyue.diagnosis as dx

    question = Question(carrier.strip(), province.strip(), city.strip(), district.strip(),
                        address.strip())  # fmt: skip
    day = _day(request)
    context: dict[str, Any] = {"title": "可达查询", "q": question, "day": day}
    context.update(carriers=_carriers(), flash=flash_message(request, caller))
    rules: list[Any] = []
    if question.asked:
        try:
            rules, context["verdict"] = answer(question, day)
        except dx.DiagnosisError as error:
            context["error"] = str(error)
    if format != "html":
        from lvyue.diagnosis.reachability import EXPORT_COLUMNS as COLUMNS

        rows = ([r.as_row()[c] for c in COLUMNS] for r in rules)
        return export("unreachable", COLUMNS, rows, format)
    context["rules"] = [r.as_row() for r in rules]
    context["restricted"] = _restricted(caller)
    return page(request, "reachability.html", caller, **context)


def _carriers() -> list[tuple[str, str]]:
    import lvyue.diagnosis as dx
    from lvyue.tracking.carriers import carrier_label

    return [(code, carrier_label(code)) for code in sorted({r.carrier for r in dx.load_coverage()})]


def _restricted(caller: Caller) -> list[dict[str, Any]] | None:
    from lvyue.diagnosis.restricted import restricted_areas

    _, state = kept.configured()
    merchant = caller.principal.merchant_id
    return None if merchant is None or state is None else restricted_areas(state, merchant)


@router.post("/diagnosis/restricted")
def set_restricted(
    request: Request,
    session: SessionDep,
    caller: Setter,
    carrier: FormText = "",
    province: FormText = "",
    city: FormText = "",
    district: FormText = "",
    address: Annotated[str, Form(max_length=500)] = "",
    clear: FormText = "",
) -> Response:
    """设为限售区域: the query's unreachable areas join the merchant's restricted-sale list."""
    import lvyue.diagnosis as dx
    from lvyue.diagnosis.restricted import add_restricted, clear_restricted

    question = Question(carrier, province, city, district, address)
    back = f"/console/diagnosis/reachability?{question.query()}"
    merchant = caller.principal.merchant_id
    _, state = kept.configured()
    if merchant is None or state is None:
        return back_to(back, caller, done="限售区域仅由商家设置（需配置诊断状态目录）")
    detail: dict[str, Any]
    if clear:
        clear_restricted(state, merchant)
        done, detail = "已清空限售区域", {"cleared": True}
    else:
        try:
            rules, _ = answer(question, _day(request))
        except dx.DiagnosisError as error:
            return back_to(back, caller, done=str(error))
        _, added = add_restricted(state, merchant, rules, now_of(request))
        done, detail = f"已设为限售区域：新增 {added} 个区域", {"added": added, **vars(question)}
    audit(session, actor=caller.principal.account_id, action="restricted_areas.set",
          entity="merchant", entity_id=merchant, merchant_id=merchant, detail=detail)  # fmt: skip
    session.commit()
    return back_to(back, caller, done=done)
