"""Validation of the settlement model against a known true model (docs/diagnosis-model.md).

Merchants are split into training and held-out sets; the model is fitted on the training
merchants' orders; each held-out merchant gets its peer targets exactly as the diagnosis
computes them (``peers.standing`` against the training merchants of its industry); the
predicted gain is compared with the gain the true model gives for the same counterfactual.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import numpy as np

from lvyue.diagnosis import peers, settlement
from lvyue.diagnosis.diagnose import SETTLEMENT_COLUMNS, targets
from lvyue.diagnosis.metrics import rows


def evaluate(
    shipments: ir.Table,
    truth: settlement.Predict,
    backend: Any,
    holdout: float = 0.25,
    seed: int = 0,
    min_orders: int = 100,
) -> dict[str, settlement.Validation]:
    """Predicted vs true gain on held-out merchants, for the peer P50 and P75 targets."""
    shipped = shipments.filter(shipments.shipped)
    data = settlement.OrderFeatures.from_arrow(
        backend.to_pyarrow(shipped.select(*SETTLEMENT_COLUMNS))
    )
    merchants = rows(backend.to_pyarrow(peers.merchant_table(shipments, min_orders)))
    ids = np.array(sorted(m["merchant_id"] for m in merchants))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(ids, max(1, int(len(ids) * holdout)), replace=False).tolist())
    population = [m for m in merchants if m["merchant_id"] not in held]
    by_id = {m["merchant_id"]: m for m in merchants}

    def targets_for(level: str) -> Any:
        def of(merchant_id: str) -> settlement.Targets:
            me = by_id[merchant_id]
            same = [p for p in population if p["industry"] == me["industry"]]
            return targets(peers.standing(me, same), level)

        return of

    is_held = np.isin(data.merchant_id, list(held))
    train, test = data.subset(~is_held), data.subset(is_held)
    return {
        level: settlement.validate(train, test, truth, targets_for(level))
        for level in ("p50", "p75")
    }
