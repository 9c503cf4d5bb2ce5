"""The experience score (体验分): our formula over known components, 0–5."""

from __future__ import annotations

import pytest

from lvyue.indicators.score import components, experience_score

PERFECT_LOGISTICS = {
    "pickup_24h_rate": 1.0,
    "pickup_36h_rate": 1.0,
    "pickup_48h_rate": 1.0,
    "on_time_rate": 1.0,
    "logistics_complaint_rate": 0.0,
}


def test_the_weighted_components_on_a_five_point_scale() -> None:
    values = {
        "negative_review_rate": 0.20,  # half its ceiling (0.40)
        "product_return_rate": 0.06,  # half its ceiling (0.12)
        "complaint_rate": 0.075,  # half its ceiling (0.15)
        **PERFECT_LOGISTICS,
    }
    assert components(values) == pytest.approx({"product": 0.5, "logistics": 1.0, "service": 0.5})
    assert experience_score(values) == pytest.approx(3.0)  # 5 × (0.5·0.5 + 0.2·1 + 0.3·0.5)


def test_missing_components_drop_out_and_nothing_known_is_no_score() -> None:
    values = {"negative_review_rate": 0.20, "product_return_rate": 0.06, "complaint_rate": 0.075}
    assert experience_score(values) == pytest.approx(2.5)  # (0.25 + 0.15) / 0.8 × 5
    assert experience_score({}) is None


def test_rates_past_their_ceiling_floor_the_component_at_zero() -> None:
    values = {"negative_review_rate": 0.9, "product_return_rate": 0.5, "complaint_rate": 1.0}
    assert experience_score(values) == 0.0
