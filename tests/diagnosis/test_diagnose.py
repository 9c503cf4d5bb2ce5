"""A merchant's diagnosis: cold start, rollout flag, peers, suggestions, controlled usage,
and the CLI around it."""

from __future__ import annotations

import csv
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
import synth
from synth import THRESHOLDS
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.diagnosis import EntityState, Period, ShipmentSource, diagnose, sign_up, sign_ups
from lvyue.diagnosis.growth import recommend
from lvyue.diagnosis.peers import LaneDetail, grade, standing
from lvyue.diagnosis.score import sub_score

CON = ibis.duckdb.connect()
ALL = Period.parse("2023-01-01..2023-02-28")
runner = CliRunner()


def _merchant(market: synth.Synth, enabled: bool, origin: str | None = None) -> str:
    merchants = market.facts["merchants"].to_pylist()
    orders = market.facts["orders"].select(["merchant_id", "origin_city"]).to_pylist()
    origin_of = {o["merchant_id"]: o["origin_city"] for o in orders}
    return next(
        m["merchant_id"]
        for m in merchants
        if m["topic_analysis_enabled"] == enabled
        and origin in (None, origin_of.get(m["merchant_id"]))
    )


def test_topic_analysis_for_an_enabled_merchant(
    market: synth.Synth, source: ShipmentSource
) -> None:
    merchant = _merchant(market, True)
    d = diagnose(source.shipments, source.merchants, merchant, ALL, THRESHOLDS, backend=CON)
    assert d.state == "ready" and d.topic_status == "enabled" and d.topic is not None
    assert d.capability and sum(r["volume"] for r in d.capability) == d.volume
    assert d.topic.peer_count == 19  # same industry, itself excluded
    for s in d.topic.standings:
        assert s.grade == grade(s.percentile)
    assert set(d.topic.gain) == {"p50", "p75"}
    assert d.topic.gain["p75"].gain_orders >= d.topic.gain["p50"].gain_orders - 0.5
    assert d.score is not None and d.score.score is not None and 50 <= d.score.score <= 100


def test_rollout_flag_hides_topic_analysis(market: synth.Synth, source: ShipmentSource) -> None:
    merchant = _merchant(market, False)
    d = diagnose(source.shipments, source.merchants, merchant, ALL, THRESHOLDS, backend=CON)
    assert d.state == "ready" and d.topic is None and d.topic_status == "not_enabled"
    assert d.capability  # capability is not gated


def test_cold_start_below_minimum_history(market: synth.Synth, source: ShipmentSource) -> None:
    merchant = _merchant(market, True)
    one_day = Period.parse("2023-01-02..2023-01-02")
    d = diagnose(source.shipments, source.merchants, merchant, one_day, THRESHOLDS, backend=CON)
    assert d.state == "cold_start" and d.volume < THRESHOLDS.min_history_orders
    assert not d.summary and not d.capability and d.topic is None
    assert {r.solution for r in d.recommendations} == {"carrier_recommendation", "cloud_warehouse"}


def test_recommendations_name_carriers_and_keep_their_codes() -> None:
    lane = LaneDetail("杭州市", "北京市", "yuantong", 200, {"on_time_rate": 0.80}, {})
    peers = {("杭州市", "北京市"): [{"carrier": "shunfeng", "volume": 500, "on_time_rate": 0.97}]}
    switch, guarantee = recommend([lane], peers, [], on_time_min=0.9, min_volume=50)
    assert (switch.solution, switch.carrier) == ("carrier_recommendation", "shunfeng")
    assert "顺丰速运 is on time 97%" in switch.reason and "with your 圆通速递" in switch.reason
    assert (guarantee.carrier, "(圆通速递)" in guarantee.reason) == ("yuantong", True)


def test_shipping_through_a_controlled_outlet_is_flagged(
    market: synth.Synth, source: ShipmentSource
) -> None:
    merchant = _merchant(market, True, origin="杭州市")
    controlled = {
        ("outlet", f"yuantong|{synth.POOR_OUTLET}"): EntityState(
            "outlet",
            f"yuantong|{synth.POOR_OUTLET}",
            status="controlled",
            events=["2023-W03 controlled"],
        )
    }
    d = diagnose(source.shipments, source.merchants, merchant, ALL, THRESHOLDS, controlled, CON)
    assert [(c.kind, c.since) for c in d.controlled] == [("outlet", "2023-W03")]
    assert d.controlled[0].shipments > 0


def test_suggestions_carry_numbers_for_slow_merchants(
    market: synth.Synth, source: ShipmentSource
) -> None:
    """The slowest-handover merchant is lagging on pickup and gets numeric advice."""
    t = source.shipments
    slowest = (
        CON.to_pyarrow(
            t.group_by("merchant_id")
            .aggregate(h=t.pickup_from_pay_h.mean())
            .order_by(ibis.desc("h"))
            .limit(5)
        )
        .column("merchant_id")
        .to_pylist()
    )
    enabled = {
        m["merchant_id"]
        for m in market.facts["merchants"].to_pylist()
        if m["topic_analysis_enabled"]
    }
    merchant = next(m for m in slowest if m in enabled)
    d = diagnose(source.shipments, source.merchants, merchant, ALL, THRESHOLDS, backend=CON)
    assert d.topic is not None
    pickup = next(s for s in d.topic.standings if s.column == "pickup_from_pay_h_avg")
    assert pickup.grade == "lagging"
    assert any("揽收时长" in s.text and " h" in s.text for s in d.topic.suggestions)
    assert d.topic.gain["p50"].gain_orders > 0


def test_percentile_direction_and_ties() -> None:
    peers = [
        {"merchant_id": str(i), "on_time_rate": v, "exception_rate": v / 10}
        for i, v in enumerate([0.8, 0.9, 0.95])
    ]
    me = {"merchant_id": "me", "on_time_rate": 0.9, "exception_rate": 0.09}
    by = {s.column: s for s in standing(me, peers)}
    assert by["on_time_rate"].percentile == pytest.approx(100 * 1.5 / 3)  # higher is better
    assert by["exception_rate"].percentile == pytest.approx(100 * 1.5 / 3)  # lower is better
    assert by["on_time_rate"].grade == "normal"
    assert by["complaint_rate"].grade == "n/a"


def test_sub_score_scale() -> None:
    perfect = {
        "pickup_24h_rate": 1.0,
        "pickup_36h_rate": 1.0,
        "pickup_48h_rate": 1.0,
        "on_time_rate": 1.0,
        "complaint_rate": 0.0,
    }
    assert sub_score(perfect).score == 100.0
    worst = {
        **perfect,
        "pickup_24h_rate": 0.0,
        "pickup_36h_rate": 0.0,
        "pickup_48h_rate": 0.0,
        "on_time_rate": 0.0,
        "complaint_rate": 0.2,
    }
    assert sub_score(worst).score == 50.0
    assert sub_score({**perfect, "on_time_rate": None}).score is None


def test_growth_signups_are_recorded(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    sign_up(tmp_path, "M001", "cloud_warehouse", datetime(2023, 2, 1, tzinfo=UTC))
    assert sign_ups(tmp_path, "M001")[0]["at"] == "2023-02-01T08:00:00+08:00"
    _, new = sign_up(tmp_path, "M001", "cloud_warehouse", datetime(2023, 3, 1, tzinfo=UTC))
    assert not new and len(sign_ups(tmp_path, "M001")) == 1
    with pytest.raises(ValueError, match="unknown merchant"):
        sign_up(tmp_path, "M404", "cloud_warehouse", datetime(2023, 2, 1, tzinfo=UTC), {"M001"})
    with pytest.raises(ValueError, match="unknown solution"):
        sign_up(tmp_path, "M001", "teleport", datetime(2023, 2, 1, tzinfo=UTC))


def test_cli_diagnose_governance_reachability(
    market: synth.Synth, facts_dir: Path, tmp_path: Path
) -> None:
    merchant = _merchant(market, True)
    out = runner.invoke(app, ["diagnose", merchant, "--facts", str(facts_dir)])
    assert out.exit_code == 0, out.output
    assert "Carrier capability" in out.output and "Topic analysis" in out.output
    assert "圆通速递" in out.output  # carriers by name, not Kuaidi100 code
    state = tmp_path / "state"
    warnings = tmp_path / "warnings.csv"
    args = ["governance", "--facts", str(facts_dir), "--week", "2023-W01..2023-W03"]
    out = runner.invoke(app, [*args, "--state-dir", str(state), "--export", str(warnings)])
    assert out.exit_code == 0, out.output
    assert "put under control" in out.output and (state / "history.parquet").exists()
    with warnings.open(encoding="utf-8-sig") as handle:
        listed = list(csv.DictReader(handle))
    assert {r["week"] for r in listed} == {"2023-W01", "2023-W02", "2023-W03"}
    assert any(r["key"] == f"yuantong|{synth.POOR_OUTLET}" and r["breached"] for r in listed)
    xlsx = tmp_path / "zt.xlsx"
    out = runner.invoke(
        app, ["reachability", "--carrier", "zhongtong", "--province", "西藏", "--export", str(xlsx)]
    )
    assert out.exit_code == 0 and xlsx.exists(), out.output
    assert "中通" in out.output and "zhongtong" not in out.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diagnose", "NOPE", "--facts", "{facts}"], "no orders"),
        (["diagnose", "M001", "--facts", "{facts}", "--period", "2023-02-30..x"], "period"),
        (["governance", "--facts", "{facts}", "--week", "2023-05"], "week"),
        (["diagnose", "M001", "--facts", "/nonexistent"], "facts directory"),
        (["reachability", "--carrier", "yunda", "--address", "火星基地1号"], "province"),
    ],
)
def test_cli_bad_input_is_one_line(facts_dir: Path, args: list[str], message: str) -> None:
    out = runner.invoke(app, [a.replace("{facts}", str(facts_dir)) for a in args])
    assert out.exit_code == 2
    assert message in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_merchants_without_flag_column_are_not_enabled(source: ShipmentSource) -> None:
    merchant_id = source.merchants.column("merchant_id")[0].as_py()
    bare = pa.table({"merchant_id": [merchant_id]})
    d = diagnose(source.shipments, bare, merchant_id, ALL, THRESHOLDS, backend=CON)
    assert d.topic_status == "not_enabled"


def test_cli_growth_signup_refuses_unknown_merchant_and_records_once(
    market: synth.Synth, facts_dir: Path, tmp_path: Path
) -> None:
    merchant = _merchant(market, True)
    base = ["--state-dir", str(tmp_path), "--facts", str(facts_dir)]
    out = runner.invoke(app, ["growth-signup", "NOPE", "cloud_warehouse", *base])
    assert out.exit_code == 2 and "unknown merchant 'NOPE'" in out.output
    assert not (tmp_path / "signups.jsonl").exists()
    first = runner.invoke(app, ["growth-signup", merchant, "cloud_warehouse", *base])
    again = runner.invoke(app, ["growth-signup", merchant, "cloud_warehouse", *base])
    assert first.exit_code == again.exit_code == 0, first.output
    assert "already signed up" in again.output
    assert len(sign_ups(tmp_path, merchant)) == 1


def test_cli_governance_speaks_chinese_and_keeps_codes_in_files(
    facts_dir: Path, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    args = ["governance", "--facts", str(facts_dir), "--week", "2023-W01..2023-W03"]
    out = runner.invoke(app, [*args, "--export", str(tmp_path / "w.xlsx")], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    assert "网点" in out.output and "24小时揽收率" in out.output and "圆通" in out.output
    header, *rows = load_workbook(tmp_path / "w.xlsx").active.iter_rows(values_only=True)
    assert "类型 kind" in header and "超标项 breached" in header
    assert any(r[header.index("类型 kind")] == "网点 (outlet)" for r in rows)
    csv_out = runner.invoke(app, [*args, "--export", str(tmp_path / "w.csv")])
    assert csv_out.exit_code == 0
    assert "pickup_24h_rate" in (tmp_path / "w.csv").read_text("utf-8-sig")  # codes in CSV
