"""物流诊断, 可达查询, 治理周报 and 政策预演 pages (issue 14): each through the app in process,
at both sides of its edges (rollout flag on and off, a carrier of mine warned or not, a new
merchant's cold start, permission held or not, CSRF given or not)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from webkit import csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.diagnosis import kept
from lvyue.model.clock import DEMO_CLOCK_ENV, demo_clock
from lvyue.sim import write_facts
from lvyue.web.security import LoginThrottle

# The pages read the database only to authenticate: SQLite is enough here (the console's
# other modules run on both databases).
pytestmark = pytest.mark.parametrize("service_backend", ["sqlite"], indirect=True, scope="module")
DRAFT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "draft" / "pickup-72h.yaml"
ENABLED, NOT_ENABLED, YUNDA = "M0000005", "M0000011", "M0000009"  # in the seed-7 world


@pytest.fixture(scope="module")
def snapshot(service: ServiceWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 20 000-order simulated world (seed 7) as the diagnosis snapshot, and a state dir."""
    root = tmp_path_factory.mktemp("diagnosis")
    write_facts(root / "facts", 20_000, 7, fmt="parquet", progress=False)
    patch = pytest.MonkeyPatch()
    patch.setenv("LVYUE_DIAGNOSIS_FACTS", str(root / "facts"))
    patch.setenv("LVYUE_DIAGNOSIS_STATE", str(root / "state"))
    yield root
    patch.undo()


def where(answer: Any) -> str:
    """A redirect's target, decoded (its flash message is Chinese)."""
    return unquote(answer.headers["location"])


def charts(html: str) -> list[dict[str, Any]]:
    """The ECharts options a page draws (its ``data-option`` attributes)."""
    return [json.loads(unescape(part.split("'", 1)[0])) for part in html.split("data-option='")[1:]]


def axis_names(option: dict[str, Any]) -> list[str]:
    axes = [option.get("xAxis"), option.get("yAxis")]
    flat = [a for axis in axes for a in (axis if isinstance(axis, list) else [axis]) if a]
    return [str(a.get("name", "")) for a in flat]


def test_a_new_merchant_gets_the_cold_start_and_signs_up(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")  # m1 has no orders in the snapshot
    page = client.get("/console/diagnosis")
    assert page.status_code == 200 and "冷启动 Cold start" in page.text
    assert "云仓 cloud warehouse" in page.text and "专题分析" in page.text
    token = csrf_of(page.text)
    assert (
        client.post("/console/diagnosis/sign-up", data={"solution": "cloud_warehouse"}).status_code
        == 403
    )  # fmt: skip  (no CSRF token)
    done = client.post("/console/diagnosis/sign-up",
                       data={"solution": "cloud_warehouse", "csrf_token": token})  # fmt: skip
    assert done.status_code == 303 and "已报名" in where(done)
    again = client.post("/console/diagnosis/sign-up",
                        data={"solution": "cloud_warehouse", "csrf_token": token})  # fmt: skip
    assert again.status_code == 303
    records = (snapshot / "state" / "signups.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(r)["solution"] for r in records] == ["cloud_warehouse"]  # once
    assert "已报名" in client.get("/console/diagnosis").text


def test_topic_analysis_follows_the_rollout_flag(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    operator = login(service, "operator")
    enabled = operator.get(f"/console/diagnosis?merchant={ENABLED}").text
    titles = {c["title"]["text"]: axis_names(c) for c in charts(enabled)}
    percentile = next(v for k, v in titles.items() if k.startswith("同行业百分位"))
    assert "百分位（%）" in percentile and "指标" in percentile  # axes named with units
    assert "结算率（%）" in next(v for k, v in titles.items() if k.startswith("预计结算率"))
    assert 'class="lanes"' in enabled and "尚未开通" not in enabled
    off = operator.get(f"/console/diagnosis?merchant={NOT_ENABLED}").text
    assert "尚未开通" in off and 'class="lanes"' not in off
    assert [c["title"]["text"] for c in charts(off)] == ["承运商能力 Carrier capability"]


def test_a_merchant_never_opens_another_merchants_diagnosis(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")
    assert client.get(f"/console/diagnosis?merchant={ENABLED}").status_code == 404
    assert login(service, "m1.clerk").get("/console/diagnosis").status_code == 403


def test_a_published_week_warns_the_merchants_of_that_carrier_only(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    operator = login(service, "operator")
    token = csrf_of(operator.get("/console/governance").text)
    merchant = login(service, "m1.main")
    refused = merchant.post("/console/governance/publish",
                            data={"week": "2024-W03", "csrf_token": csrf_of(
                                merchant.get("/console/orders").text)})  # fmt: skip
    assert refused.status_code == 403 and "penalties:manage" in refused.text
    for week in ("2024-W03", "2024-W04", "2024-W05"):
        done = operator.post(
            "/console/governance/publish", data={"week": week, "csrf_token": token}
        )
        assert done.status_code == 303 and "已发布" in where(done), week
    page = operator.get("/console/governance").text
    assert "yunda · yunda-重庆-003" in page and "管控 controlled" in page
    assert "2024-W05" in page
    warned = operator.get(f"/console/diagnosis?merchant={YUNDA}").text
    assert "最近发布：2024-W05" in warned and "yunda · yunda-重庆-003" in warned
    clean = operator.get(f"/console/diagnosis?merchant={NOT_ENABLED}").text  # zhongtong only
    assert "本周没有涉及我的承运商的预警" in clean and "yunda-重庆-003" not in clean


def test_reachability_query_export_and_restricted_areas(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    client = login(service, "m1.main")
    page = client.get("/console/diagnosis/reachability?carrier=zhongtong&province=西藏")
    assert page.status_code == 200 and "阿里地区" in page.text
    csv = client.get("/console/diagnosis/reachability?carrier=zhongtong&province=西藏&format=csv")
    lines = csv.content.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffcarrier,province") and len(lines) > 1
    assert all(line.startswith("zhongtong,西藏自治区") for line in lines[1:])
    lhasa = {"carrier": "yunda", "address": "西藏拉萨市城关区北京中路1号"}
    address = client.get("/console/diagnosis/reachability", params=lhasa)
    assert "不可达 unreachable" in address.text
    hangzhou = {"carrier": "zhongtong", "address": "浙江省杭州市西湖区文三路1号"}
    open_city = client.get("/console/diagnosis/reachability", params=hangzhou)
    assert "可达 reachable" in open_city.text and "不可达 unreachable" not in open_city.text
    form = {"carrier": "zhongtong", "province": "西藏", "csrf_token": csrf_of(page.text)}
    assert client.post("/console/diagnosis/restricted", data={**form, "csrf_token": ""}
                       ).status_code == 403  # fmt: skip
    saved = client.post("/console/diagnosis/restricted", data=form)
    assert saved.status_code == 303 and "新增" in where(saved)
    listed = client.get("/console/diagnosis/reachability").text
    assert "我的限售区域 Restricted-sale areas（" in listed and "阿里地区" in listed
    assert "zhongtong: 无自营网点" in listed
    operator = login(service, "operator").get(
        "/console/diagnosis/reachability?carrier=zhongtong&province=西藏"
    )
    assert "设为限售区域" not in operator.text  # an operator queries; a merchant restricts


def test_policy_preview_of_a_draft_by_clause_and_merchant(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    operator = login(service, "operator")
    token = csrf_of(operator.get("/console/rules").text)
    upload = {"draft": ("pickup-72h.yaml", DRAFT.read_bytes(), "application/yaml")}
    shown = operator.post("/console/rules/preview", data={"csrf_token": token}, files=upload)
    assert shown.status_code == 200, shown.text[:500]
    assert "X-1" in shown.text and "violated → ok" in shown.text
    assert 'class="by-merchant"' in shown.text and "M00000" in shown.text
    broken = {"draft": ("bad.yaml", b"announcement: [unclosed", "application/yaml")}
    bad = operator.post("/console/rules/preview", data={"csrf_token": token}, files=broken)
    assert bad.status_code == 422 and "bad.yaml" in bad.text
    merchant = login(service, "m1.main")
    mine = {"csrf_token": csrf_of(merchant.get("/console/orders").text)}
    refused = merchant.post("/console/rules/preview", files=upload, data=mine)
    assert refused.status_code == 403 and "penalties:manage" in refused.text


def test_the_console_runs_on_the_demo_clock(
    service: ServiceWorld, fresh_throttle: LoginThrottle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order paid an hour before business time is pending on the demo clock, and late on
    the wall clock: every page reads the one business clock (LVYUE_DEMO_CLOCK)."""
    anchor = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)  # 12:00 Beijing
    order = {"order_id": "clock-1", "merchant_id": "m1", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": (anchor + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    answer = service.client.post("/orders", json=order, headers=service.auth("operator"))
    assert answer.status_code == 201, answer.text
    client = login(service, "m1.main")
    wall = client.get("/console/orders/clock-1").text
    assert "status-violated" in wall
    monkeypatch.setenv(DEMO_CLOCK_ENV, demo_clock(anchor, datetime.now(UTC)))
    demo = client.get("/console/orders/clock-1").text
    assert 'name="business-now" content="2024-02-10T04:0' in demo
    assert "status-violated" not in demo and "status-pending" in demo


def test_diagnoses_are_kept_per_watermark(snapshot: Path) -> None:
    facts, state = snapshot / "facts", snapshot / "state"
    mark = kept.watermark(facts, state)
    stored = list((state / kept.CACHE_DIR / mark).glob("*.json"))
    assert stored, "the pages above stored their diagnoses under the current watermark"
    body = json.loads(stored[0].read_text("utf-8"))
    assert {"merchant_id", "state", "capability", "recommendations"} <= set(body)
    (facts / "orders.parquet").touch()  # a new snapshot: another watermark
    assert kept.watermark(facts, state) != mark
