"""The experience score (体验分, 0–5, DR-5's scale): our formula, weights as data
(data/experience.yaml; docs/indicators.md). The logistics part is the diagnosis's store
sub-score (lvyue.diagnosis.score), unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

from lvyue.diagnosis.score import sub_score


@cache
def formula() -> dict[str, Any]:
    text = resources.files("lvyue.indicators.data").joinpath("experience.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _capped(value: float, ceiling: float) -> float:
    return min(1.0, max(0.0, value / ceiling))


def components(values: Mapping[str, float | None]) -> dict[str, float | None]:
    """product, logistics, service in 0..1 (None where the inputs are unknown).

    ``values``: negative_review_rate (None when too few reviews), product_return_rate,
    complaint_rate, and the diagnosis rates (pickup_24h/36h/48h_rate, on_time_rate,
    logistics_complaint_rate)."""
    ceilings = formula()["ceilings"]
    parts = [
        _capped(float(v), float(ceilings[k]))
        for k in ("negative_review_rate", "product_return_rate")
        if (v := values.get(k)) is not None
    ]
    product = 1.0 - sum(parts) / len(parts) if parts else None
    logistics_input = {k: values.get(k) for k in ("pickup_24h_rate", "pickup_36h_rate")}
    logistics_input |= {
        "pickup_48h_rate": values.get("pickup_48h_rate"),
        "on_time_rate": values.get("on_time_rate"),
        "complaint_rate": values.get("logistics_complaint_rate"),
    }
    store = sub_score(logistics_input).score
    logistics = None if store is None else (store - 50.0) / 50.0
    complaint = values.get("complaint_rate")
    service = (
        None if complaint is None else 1.0 - _capped(complaint, float(ceilings["complaint_rate"]))
    )
    return {"product": product, "logistics": logistics, "service": service}


def experience_score(values: Mapping[str, float | None]) -> float | None:
    """5 × the weighted mean of the known components; None when none is known."""
    weights = formula()["weights"]
    known = {k: v for k, v in components(values).items() if v is not None}
    if not known:
        return None
    total = sum(float(weights[k]) for k in known)
    return round(5.0 * sum(float(weights[k]) * v for k, v in known.items()) / total, 2)
