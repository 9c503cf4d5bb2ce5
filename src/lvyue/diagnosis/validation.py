"""Validation of the settlement and conversion models against known true models
(docs/diagnosis-model.md).

Merchants are split into training and held-out sets; a model is fitted on the training
merchants; each held-out merchant gets its peer targets exactly as the diagnosis computes them
(``peers.standing`` against the training merchants of its industry); the predicted gain is
compared with the gain the true model gives for the same counterfactual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from lvyue.diagnosis import conversion, peers, settlement
from lvyue.diagnosis.diagnose import SETTLEMENT_COLUMNS, targets
from lvyue.diagnosis.metrics import rows

LEVELS = ("p50", "p75")
TargetsFor = Callable[[str], settlement.Targets]


@dataclass(frozen=True)
class Split:
    held: set[str]
    targets_for: dict[str, TargetsFor]  # level → merchant → peer targets


def split(shipments: ir.Table, backend: Any, holdout: float, seed: int, min_orders: int) -> Split:
    """Held-out merchants (a seeded sample) and their peer targets among training merchants."""
    merchants = rows(backend.to_pyarrow(peers.merchant_table(shipments, min_orders)))
    ids = np.array(sorted(m["merchant_id"] for m in merchants))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(ids, max(1, int(len(ids) * holdout)), replace=False).tolist())
    population = [m for m in merchants if m["merchant_id"] not in held]
    by_id = {m["merchant_id"]: m for m in merchants}

    def targets_for(level: str) -> TargetsFor:
        def of(merchant_id: str) -> settlement.Targets:
            me = by_id[merchant_id]
            same = [p for p in population if p["industry"] == me["industry"]]
            return targets(peers.standing(me, same), level)

        return of

    return Split(held, {level: targets_for(level) for level in LEVELS})


def evaluate(
    shipments: ir.Table,
    truth: settlement.Predict,
    backend: Any,
    holdout: float = 0.25,
    seed: int = 0,
    min_orders: int = 100,
) -> dict[str, settlement.Validation]:
    """Settlement: predicted vs true gain on held-out merchants, for the P50 and P75 targets."""
    shipped = shipments.filter(shipments.shipped)
    data = settlement.OrderFeatures.from_arrow(
        backend.to_pyarrow(shipped.select(*SETTLEMENT_COLUMNS))
    )
    s = split(shipments, backend, holdout, seed, min_orders)
    is_held = np.isin(data.merchant_id, list(s.held))
    train, test = data.subset(~is_held), data.subset(is_held)
    return {
        level: settlement.validate(train, test, truth, s.targets_for[level]) for level in LEVELS
    }


@dataclass(frozen=True)
class ConversionValidation:
    merchants: int
    predicted_gain: float  # extra buyers over the held-out merchants' visitors
    true_gain: float
    slopes: dict[str, float]

    @property
    def relative_error(self) -> float:
        return abs(self.predicted_gain - self.true_gain) / abs(self.true_gain)


def evaluate_conversion(
    shipments: ir.Table,
    table: pa.Table,
    truth: conversion.Predict,
    backend: Any,
    holdout: float = 0.25,
    seed: int = 0,
    min_orders: int = 100,
) -> dict[str, ConversionValidation]:
    """Conversion (LD-1): fit on the training merchants' observed conversion; on held-out
    merchants compare the predicted extra buyers with the true model's at the same features."""
    shipped = shipments.filter(shipments.shipped).select(*conversion.COLUMNS)
    orders = conversion.ShippedOrders.from_arrow(backend.to_pyarrow(shipped))
    observed = conversion.Observed.from_arrow(table)
    s = split(shipments, backend, holdout, seed, min_orders)
    train = conversion.Observed(
        {m: v for m, v in observed.visitors.items() if m not in s.held}, observed.buyers
    )
    model = conversion.fit_from(orders, train)
    ids, industries, _ = orders.by_merchant()
    industry = dict(zip(ids.tolist(), industries.tolist(), strict=True))
    held = sorted(m for m in s.held if observed.rate(m) and m in industry)
    out: dict[str, ConversionValidation] = {}
    for level in LEVELS:
        predicted = true = 0.0
        for m in held:
            raw, visitors, rate = orders.of(m), observed.visitors[m], observed.rate(m)
            t = s.targets_for[level](m)
            g = conversion.gain(model, raw, float(rate or 0.0), visitors, t)
            predicted += visitors * (g.projected_rate - g.current_rate)
            ind = np.array([industry[m]])
            x = np.vstack([conversion.features(raw), conversion.features_after(raw, t)])
            now, after = truth(np.repeat(ind, 2), x)
            true += visitors * float(after - now)
        out[level] = ConversionValidation(len(held), predicted, true, model.slopes())
    return out
