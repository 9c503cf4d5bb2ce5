"""Predicted settlement gain (LD-6): validated against the true model on held-out merchants.

The simulator's outcomes are drawn from ``lvyue.sim.truth``; the synthetic marketplace's
from ``synth.true_probability``. The predicted gain must be within ±20 % of the true gain.
"""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pytest
import synth

from lvyue.diagnosis import ShipmentSource, build
from lvyue.diagnosis.settlement import OrderFeatures, SettlementModel, Targets, gain
from lvyue.diagnosis.validation import evaluate
from lvyue.sim import truth

CON = ibis.duckdb.connect()


def sim_truth(industry: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """lvyue.sim.truth on the model's raw measurements (pickup h, elapsed h, lane standard h,
    exception)."""
    return truth.settlement_probability(industry, raw[:, 0], raw[:, 1] / raw[:, 2], raw[:, 3])


def test_gain_within_20_percent_on_the_simulator(sim_tables: dict[str, pa.Table]) -> None:
    source = build(sim_tables)
    results = evaluate(source.shipments, sim_truth, CON, holdout=0.25, seed=0)
    for level, v in results.items():
        assert v.merchants >= 20, level
        assert v.true_gain > 10, level  # a real effect to recover
        assert v.relative_error <= 0.20, (level, v)
        assert v.calibration_gap < 0.05, (level, v)


def test_gain_within_20_percent_on_the_synthetic_market(source: ShipmentSource) -> None:
    results = evaluate(source.shipments, synth.true_probability, CON, holdout=0.25, seed=1)
    for level, v in results.items():
        assert v.relative_error <= 0.20, (level, v)


def test_no_gain_when_already_at_target() -> None:
    rng = np.random.default_rng(0)
    n = 2_000
    raw = np.column_stack(
        [rng.gamma(2, 10, n), rng.gamma(2, 20, n), np.full(n, 48.0), rng.random(n) < 0.05]
    ).astype(float)
    industry = np.full(n, "服饰")
    settled = rng.random(n) < sim_truth(industry, raw)
    data = OrderFeatures(np.full(n, "M"), industry, np.full(n, 100.0), raw, settled)
    model = SettlementModel.fit(data)
    g = gain(model.predict, data, Targets(pickup_h_avg=1e6, transit_h_avg=1e6, exception_rate=1.0))
    assert g.gain_orders == pytest.approx(0.0) and g.projected_rate == g.current_rate
    better = gain(
        model.predict, data, Targets(pickup_h_avg=5.0, transit_h_avg=10.0, exception_rate=0.0)
    )
    assert better.gain_orders > 0 and better.gain_gmv == pytest.approx(better.gain_orders * 100.0)
    assert set(model.coefficients()["服饰"]) >= {"intercept", "pickup_excess_d", "exception"}
