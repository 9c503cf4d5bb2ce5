"""Store logistics sub-score (LD-1): 50–100, weights as data in data/score.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def weights() -> dict[str, Any]:
    text = resources.files("lvyue.diagnosis.data").joinpath("score.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass(frozen=True)
class SubScore:
    score: float | None  # None when a component is missing (nothing shipped yet)
    components: dict[str, float | None]


def sub_score(values: Mapping[str, float | None]) -> SubScore:
    """Score from the merchant's rates (pickup_24/36/48h_rate, on_time_rate, complaint_rate)."""
    w = weights()
    rates = [values.get(k) for k in w["pickup_mix"]]
    pickup = (
        None
        if any(r is None for r in rates)
        else sum(float(r) * m for r, m in zip(rates, w["pickup_mix"].values(), strict=True))  # type: ignore[arg-type]
    )
    on_time = values.get("on_time_rate")
    complaint = values.get("complaint_rate")
    complaint_c = (
        None if complaint is None else max(0.0, 1.0 - complaint / float(w["complaint_ceiling"]))
    )
    components = {"pickup": pickup, "on_time": on_time, "complaint": complaint_c}
    known = {k: v for k, v in components.items() if v is not None}
    if len(known) < len(components):
        return SubScore(None, components)
    total = sum(float(w["weights"][k]) * float(v) for k, v in known.items())
    return SubScore(round(50.0 + 50.0 * total, 1), components)
