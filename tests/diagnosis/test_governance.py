"""Weekly governance (LD-5): warnings with breached thresholds, control, lift, history."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
import synth
from synth import THRESHOLDS

from lvyue.diagnosis import (
    Finding,
    GovernanceState,
    ShipmentSource,
    build,
    compute_week,
    parse_week,
)
from lvyue.diagnosis.state import replay
from lvyue.diagnosis.weeks import week_label

CON = ibis.duckdb.connect()
POOR_OUTLET = f"yuantong|{synth.POOR_OUTLET}"
POOR_ROUTE = "|".join(synth.POOR_ROUTE)
FULL_WEEKS = [parse_week(f"2023-W0{i}") for i in range(1, 6)]  # synth covers 2023-01-01..02-11


def test_the_known_poor_outlet_and_route_are_warned_every_week(source: ShipmentSource) -> None:
    for week in FULL_WEEKS:
        findings = compute_week(source.shipments, week, THRESHOLDS, CON)
        warned = {f.key: f for f in findings if f.flagged}
        assert POOR_OUTLET in warned, week_label(week)
        assert POOR_ROUTE in warned, week_label(week)
        assert any(b.startswith("pickup_24h_rate") for b in warned[POOR_OUTLET].breached)
        assert any(b.startswith("on_time_rate") for b in warned[POOR_ROUTE].breached)
        # the healthy majority is not warned
        assert len(warned) < len(findings) / 4


def test_small_volume_is_not_judged(source: ShipmentSource) -> None:
    strict = THRESHOLDS.__class__(**{**THRESHOLDS.__dict__, "min_volume": 10_000})
    findings = compute_week(source.shipments, FULL_WEEKS[0], strict, CON)
    assert findings and not any(f.flagged for f in findings)


def test_control_after_n_weeks_and_history_on_disk(source: ShipmentSource, tmp_path: Path) -> None:
    state = GovernanceState(tmp_path / "state")
    reports = [
        state.record(w, compute_week(source.shipments, w, THRESHOLDS, CON), THRESHOLDS)
        for w in FULL_WEEKS
    ]
    assert not reports[0].newly_controlled and not reports[1].newly_controlled
    controlled_keys = {s.key for s in reports[2].newly_controlled}  # third consecutive week
    assert {POOR_OUTLET, POOR_ROUTE} <= controlled_keys
    assert {s.key for s in reports[-1].controlled} >= {POOR_OUTLET, POOR_ROUTE}
    on_disk = json.loads((tmp_path / "state" / "state.json").read_text("utf-8"))
    statuses = {e["key"]: e["status"] for e in on_disk["entities"]}
    assert statuses[POOR_OUTLET] == "controlled"
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [
        "history.parquet",
        "state.json",
    ]
    # re-running a week replaces it: same history size, same statuses
    size = len(state.history())
    again = state.record(FULL_WEEKS[-1], reports[-1].findings, THRESHOLDS)
    assert len(state.history()) == size
    assert {s.key for s in again.controlled} == {s.key for s in reports[-1].controlled}
    assert ("outlet", POOR_OUTLET) in state.controlled()


def _finding(week: int, flagged: bool, value: float, volume: int = 100) -> Finding:
    breached = ("on_time_rate below",) if flagged else ()
    return Finding("route", "r", week, volume, {"on_time_rate": value}, breached)


def test_lift_after_rectification() -> None:
    history = [_finding(w, True, 0.5) for w in range(1, 4)]
    history += [_finding(4, False, 0.95), _finding(5, False, 0.96)]
    states, _, lifted = replay(history, THRESHOLDS, report_week=5)
    assert states[("route", "r")].status == "normal"
    assert [s.key for s in lifted] == ["r"]
    assert [e.split()[1] for e in states[("route", "r")].events] == ["controlled", "lifted"]
    _, _, not_yet = replay(history[:4], THRESHOLDS, report_week=4)
    assert not not_yet  # one clean week is not enough (lift_after_weeks = 2)


def test_improving_route_is_not_controlled() -> None:
    history = [_finding(1, True, 0.5), _finding(2, True, 0.6), _finding(3, True, 0.7)]
    states, newly, _ = replay(history, THRESHOLDS, report_week=3)
    assert not newly and states[("route", "r")].status == "warned"


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [((1, 2, 4), "warned"), ((1, 2, 3), "controlled")],
)
def test_a_gap_in_processed_weeks_breaks_the_streak(weeks: tuple[int, ...], expected: str) -> None:
    states, _, _ = replay([_finding(w, True, 0.5) for w in weeks], THRESHOLDS)
    assert states[("route", "r")].status == expected


def test_too_small_week_neither_extends_nor_breaks() -> None:
    history = [_finding(1, True, 0.5), _finding(2, True, 0.5, volume=3), _finding(3, True, 0.5)]
    states, _, _ = replay(history, THRESHOLDS)
    assert states[("route", "r")].flagged_streak == 2
    assert states[("route", "r")].status == "warned"


def test_simulator_ground_truth_poor_outlets_are_warned(sim_tables: dict[str, pa.Table]) -> None:
    """On the simulator's busiest week, warned outlets are the persistently poor ones."""
    shipments = build(sim_tables).shipments
    dated = shipments.filter(shipments.week_no.notnull())
    weeks = CON.to_pyarrow(
        dated.group_by("week_no").aggregate(n=dated.count()).order_by(ibis.desc("n")).limit(1)
    )
    week = weeks.column("week_no")[0].as_py()
    truth = sim_tables["ground_truth"].to_pylist()
    poor = {f"{g['carrier']}|{g['outlet_id']}" for g in truth if g["kind"] == "outlet"}
    low_volume = THRESHOLDS.__class__(**{**THRESHOLDS.__dict__, "min_volume": 5})
    outlets = [f for f in compute_week(shipments, week, low_volume, CON) if f.kind == "outlet"]
    judged_poor = [f for f in outlets if f.key in poor and f.volume >= 5]
    judged_fine = [f for f in outlets if f.key not in poor and f.volume >= 5]
    assert len(judged_poor) >= 3 and len(judged_fine) >= 20
    recall = sum(f.flagged for f in judged_poor) / len(judged_poor)
    false_alarms = sum(f.flagged for f in judged_fine) / len(judged_fine)
    assert recall >= 0.6 and false_alarms <= 0.1, (recall, false_alarms)


def test_thresholds_come_from_the_rulebook() -> None:
    from lvyue.diagnosis import from_rulebook
    from lvyue.diagnosis.weeks import week_start

    th = from_rulebook(week_start(parse_week("2023-W05")))
    assert 0 < th.route_on_time_rate_min < 1 and 0 < th.route_exception_rate_max < 1
    assert isinstance(th.min_volume, int) and th.control_after_weeks >= 2
    assert th.min_history_orders > th.min_volume
