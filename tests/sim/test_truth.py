"""The true outcome model, and that the simulated outcomes follow it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lvyue.sim import truth


def test_settlement_falls_with_pickup_and_transit_excess_only() -> None:
    p = truth.settlement_probability
    assert p("服饰", 5.0, 0.8, 0)[0] == p("服饰", 24.0, 1.0, 0)[0]  # within standard: no effect
    assert p("服饰", 48.0, 1.0, 0)[0] < p("服饰", 24.0, 1.0, 0)[0]
    assert p("服饰", 24.0, 2.0, 0)[0] < p("服饰", 24.0, 1.0, 0)[0]
    assert p("服饰", 24.0, 1.0, 1)[0] < p("服饰", 24.0, 1.0, 0)[0]
    assert p("美妆", 10.0, 1.0, 0)[0] != p("服饰", 10.0, 1.0, 0)[0]  # per-industry baselines
    many = p(np.array(["服饰", "鲜花"]), np.array([10.0, 80.0]), np.array([1.0, 3.0]), 0)
    assert many.shape == (2,) and many[1] < many[0]


def test_complaints_rise_and_conversion_falls_with_poor_logistics() -> None:
    assert (
        truth.complaint_probability("食品", 72, 2, 1)[0]
        > truth.complaint_probability("食品", 6, 1, 0)[0]
    )
    assert (
        truth.conversion_rate("食品", 1.0, 1.0, 0.05)[0] < truth.conversion_rate("食品", 0, 0, 0)[0]
    )


def test_unknown_industry_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown industry"):
        truth.settlement_probability("军火", 1.0, 1.0, 0)


def test_lane_standard_grows_with_distance() -> None:
    near = truth.city_lane_standard_hours("杭州市", "宁波市")
    far = truth.city_lane_standard_hours("杭州市", "乌鲁木齐市")
    assert truth.city_lane_standard_hours("杭州市", "杭州市") < near < far


def test_simulated_settlement_matches_the_true_model(parcels: pd.DataFrame) -> None:
    """Measured from the facts alone (orders, tracking, lanes): mean true settlement
    probability of the shipped orders equals their settlement rate, within noise."""
    p = truth.settlement_probability(
        parcels["industry"].to_numpy(),
        parcels["pickup_hours"].to_numpy(),
        parcels["transit_ratio"].to_numpy(),
        parcels["had_exception"].to_numpy(),
    )
    observed = parcels["settled"].mean()
    noise = np.sqrt(p.mean() * (1 - p.mean()) / len(p))
    assert abs(observed - p.mean()) < 5 * noise
    slow = parcels["pickup_hours"] > 48
    assert parcels.loc[slow, "settled"].mean() < parcels.loc[~slow, "settled"].mean()


def test_simulated_complaints_match_the_true_model(parcels: pd.DataFrame) -> None:
    p = truth.complaint_probability(
        parcels["industry"].to_numpy(),
        parcels["pickup_hours"].to_numpy(),
        parcels["transit_ratio"].to_numpy(),
        parcels["had_exception"].to_numpy(),
    )
    noise = np.sqrt(p.mean() * (1 - p.mean()) / len(p))
    assert abs(parcels["complained"].mean() - p.mean()) < 5 * noise


def test_conversion_table_follows_the_true_rate(market: dict[str, pa.Table]) -> None:
    conversion = market["conversion"].to_pandas()
    busy = conversion[conversion["orders"] > 300]
    assert len(busy) > 5
    observed = busy["orders"] / busy["visitors"]
    relative = (observed - busy["true_conversion_rate"]).abs() / busy["true_conversion_rate"]
    assert relative.max() < 0.2
    expected = truth.conversion_rate(
        busy["industry"].to_numpy(),
        busy["mean_pickup_excess"].to_numpy(),
        busy["mean_transit_excess"].to_numpy(),
        busy["exception_rate"].to_numpy(),
    )
    assert np.allclose(expected, busy["true_conversion_rate"], atol=1e-5)
