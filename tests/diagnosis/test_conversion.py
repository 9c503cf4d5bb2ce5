"""Predicted conversion gain (LD-1): validated against the simulator's true conversion model on
held-out merchants, shown in the diagnosis, the CLI and the API body; unavailable (not NaN)
when the facts have no conversion table."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
import synth
from synth import THRESHOLDS
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.diagnosis import DiagnosisError, Period, ShipmentSource, Targets, build, diagnose
from lvyue.diagnosis.conversion import COLUMNS, ConversionModel, Observed, ShippedOrders, gain
from lvyue.diagnosis.validation import evaluate_conversion
from lvyue.sim import truth

CON = ibis.duckdb.connect()
ALL = Period.parse("2023-01-01..2023-02-28")
runner = CliRunner()


def sim_truth(industry: np.ndarray, x: np.ndarray) -> np.ndarray:
    return truth.conversion_rate(industry, x[:, 0], x[:, 1], x[:, 2])


def test_gain_within_20_percent_on_the_simulator(sim_tables: dict[str, pa.Table]) -> None:
    source = build(sim_tables)
    assert source.conversion is not None
    results = evaluate_conversion(source.shipments, source.conversion, sim_truth, CON, seed=0)
    for level, v in results.items():
        assert v.merchants >= 15, level
        assert v.true_gain > 100, level  # a real effect to recover (extra buyers)
        assert v.relative_error <= 0.20, (level, v)
        assert all(s < 0 for s in v.slopes.values()), v.slopes  # worse logistics, fewer buyers


def _orders(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merchants' features and observed counts drawn from the simulator's true model."""
    rng = np.random.default_rng(seed)
    industry = np.array(["服饰", "食品"])[rng.integers(0, 2, n)]
    x = np.column_stack([rng.gamma(1, 0.1, n), rng.gamma(2, 0.1, n), rng.beta(1, 60, n)])
    visitors = rng.integers(20_000, 60_000, n)
    buyers = rng.binomial(visitors, sim_truth(industry, x))
    return industry, x, np.column_stack([visitors, buyers])


def test_slopes_recovered_and_no_gain_at_target() -> None:
    industry, x, counts = _orders(300, 0)
    model = ConversionModel.fit(industry, x, counts[:, 0], counts[:, 1])
    slopes = model.slopes()
    assert slopes["mean_pickup_excess"] == pytest.approx(-0.35, abs=0.15)
    assert slopes["mean_transit_excess"] == pytest.approx(-0.5, abs=0.15)
    assert slopes["exception_rate"] == pytest.approx(-3.0, abs=1.0)
    # one merchant's orders: pickup 40 h, transit 2 lane standards, 5 % exceptions
    raw = np.tile([40.0, 96.0, 48.0, 0.0], (100, 1))
    raw[:5, 3] = 1.0
    same = gain(model, raw, 0.03, 10_000, Targets(1e6, 1e6, 1.0))
    assert same.projected_rate == same.current_rate == 0.03 and same.gain_per_1000 == 0.0
    better = gain(model, raw, 0.03, 10_000, Targets(20.0, 40.0, 0.0))
    assert better.projected_rate > 0.03 and better.clause == "LD-1"
    assert better.gain_per_1000 == pytest.approx(1000 * (better.projected_rate - 0.03))
    with pytest.raises(DiagnosisError, match="leaves no room"):
        gain(model, raw, 0.0, 10_000, Targets(20.0, 40.0, 0.0))


def test_too_few_merchants_and_bad_rows_are_named() -> None:
    industry, x, counts = _orders(5, 1)
    with pytest.raises(DiagnosisError, match="5 merchants with visitors"):
        ConversionModel.fit(industry, x, counts[:, 0], counts[:, 1])
    bad = pa.table({"merchant_id": ["A", "B"], "visitors": [10, 5], "buyers": [3, 6]})
    with pytest.raises(DiagnosisError, match="conversion row 2: needs 0 <= buyers <= visitors"):
        Observed.from_arrow(bad)
    with pytest.raises(DiagnosisError, match="missing column 'visitors'"):
        Observed.from_arrow(pa.table({"merchant_id": ["A"], "orders": [1]}))
    ok = Observed.from_arrow(pa.table({"merchant_id": ["A"], "visitors": [8], "orders": [2]}))
    assert ok.rate("A") == 0.25 and ok.rate("Z") is None


def _enabled_merchant(tables: dict[str, pa.Table]) -> str:
    flags = tables["merchants"].select(["merchant_id", "topic_analysis_enabled"]).to_pylist()
    orders = tables["conversion"].select(["merchant_id", "shipped", "orders"]).to_pylist()
    enabled = {r["merchant_id"] for r in flags if r["topic_analysis_enabled"]}
    return max((r for r in orders if r["merchant_id"] in enabled), key=lambda r: r["shipped"])[
        "merchant_id"
    ]


def test_diagnosis_reports_conversion(sim_tables: dict[str, pa.Table]) -> None:
    source = build(sim_tables)
    merchant = _enabled_merchant(sim_tables)
    period = Period.parse("2023-01-01..2023-12-31")
    d = diagnose(
        source.shipments,
        source.merchants,
        merchant,
        period,
        THRESHOLDS,
        backend=CON,
        conversion_table=source.conversion,
    )
    assert d.topic is not None and set(d.topic.conversion) == {"p50", "p75"}, d.topic_status
    row = next(r for r in sim_tables["conversion"].to_pylist() if r["merchant_id"] == merchant)
    p50, p75 = d.topic.conversion["p50"], d.topic.conversion["p75"]
    assert p50.current_rate == row["orders"] / row["visitors"] and p50.visitors == row["visitors"]
    assert p75.projected_rate >= p50.projected_rate >= p50.current_rate
    body = asdict(d)["topic"]["conversion"]["p75"]  # what GET /diagnosis/merchants/{id} returns
    assert body["clause"] == "LD-1" and math.isfinite(body["gain_per_1000"])


def test_no_conversion_table_means_unavailable(market: synth.Synth, source: ShipmentSource) -> None:
    merchants = market.facts["merchants"].to_pylist()
    merchant = next(m["merchant_id"] for m in merchants if m["topic_analysis_enabled"])
    d = diagnose(source.shipments, source.merchants, merchant, ALL, THRESHOLDS, backend=CON)
    assert d.topic is not None and d.topic.conversion == {}
    assert d.topic.conversion_note.startswith("conversion effect unavailable: the facts have no")


def test_cli_shows_conversion_from_a_facts_directory(
    market: synth.Synth, source: ShipmentSource, facts_dir: Path, tmp_path: Path
) -> None:
    merchants = market.facts["merchants"].to_pylist()
    merchant = next(m["merchant_id"] for m in merchants if m["topic_analysis_enabled"])
    out = runner.invoke(app, ["diagnose", merchant, "--facts", str(facts_dir)])
    assert out.exit_code == 0 and "conversion effect unavailable" in out.output
    # The same facts plus a conversion table drawn from a known model of the merchants' logistics.
    facts = tmp_path / "facts"
    facts.mkdir()
    for f in facts_dir.iterdir():
        (facts / f.name).symlink_to(f)
    shipped = source.shipments.filter(source.shipments.shipped).select(*COLUMNS)
    ids, _, x = ShippedOrders.from_arrow(CON.to_pyarrow(shipped)).by_merchant()
    rate = 1 / (1 + np.exp(3.5 + 0.5 * x[:, 0] + 0.8 * x[:, 1] + 3.0 * x[:, 2]))
    visitors = np.full(len(ids), 50_000)
    buyers = np.random.default_rng(3).binomial(visitors, rate)
    table = pa.table({"merchant_id": ids, "visitors": visitors, "buyers": buyers})
    pcsv.write_csv(table, facts / "conversion.csv")
    out = runner.invoke(app, ["diagnose", merchant, "--facts", str(facts)])
    assert out.exit_code == 0, out.output
    assert "转化率 conversion (LD-1)" in out.output and "peer P75" in out.output
    broken = pa.table({"merchant_id": [ids[0], ids[0]], "visitors": [10, 10], "buyers": [1, 1]})
    pcsv.write_csv(broken, facts / "conversion.csv")
    out = runner.invoke(app, ["diagnose", merchant, "--facts", str(facts)])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert out.output.strip().count("\n") == 0 and "conversion row 2: merchant" in out.output
