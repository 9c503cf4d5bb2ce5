"""Predicted settlement gain (LD-6, LD-7): settlement (结算) against logistics quality.

Per industry, a logistic regression of "order settled" on the order's pickup duration
(payment → pickup, hours), late delivery (route standard missed) and exception scan. A
logistic model fitted by maximum likelihood is calibrated on its training population; the
calibration is checked on held-out merchants (docs/diagnosis-model.md).

The counterfactual "weak metrics reach the peer target" is an expectation, not a resample:
pickup hours are scaled so the merchant's average meets the target, and a share of late /
exception orders is turned on time / clean so the rates meet theirs. The same transform is
applied to the true model in validation, so only the fitted model's error remains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from sklearn.linear_model import LogisticRegression

from lvyue.diagnosis.errors import DiagnosisError

FEATURES = ("pickup_h", "late", "exception")
MIN_TRAIN_ORDERS = 200
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (industry codes, X) → probability


@dataclass(frozen=True)
class OrderFeatures:
    """Settled-known, picked-up orders: the model's population."""

    merchant_id: np.ndarray
    industry: np.ndarray
    amount: np.ndarray
    x: np.ndarray  # columns FEATURES
    settled: np.ndarray

    @classmethod
    def from_arrow(cls, table: pa.Table) -> OrderFeatures:
        """From shipments columns: merchant_id, industry, amount, pickup_from_pay_h, on_time,
        exception, settled."""
        df = table.to_pandas()
        df = df[df["settled"].notna() & df["pickup_from_pay_h"].notna()]
        late = (df["on_time"].astype("boolean") == False).fillna(False)  # noqa: E712
        x = np.column_stack(
            [
                df["pickup_from_pay_h"].to_numpy(float),
                late.to_numpy(float),
                df["exception"].fillna(False).to_numpy(float),
            ]
        )
        return cls(
            merchant_id=df["merchant_id"].to_numpy(str),
            industry=df["industry"].fillna("").to_numpy(str),
            amount=df["amount"].to_numpy(float),
            x=x,
            settled=df["settled"].to_numpy(bool),
        )

    def subset(self, mask: np.ndarray) -> OrderFeatures:
        return OrderFeatures(
            self.merchant_id[mask], self.industry[mask], self.amount[mask], self.x[mask],
            self.settled[mask],
        )


@dataclass(frozen=True)
class Targets:
    """What the merchant's weak metrics should reach (None: leave as is)."""

    pickup_h_avg: float | None
    on_time_rate: float | None
    exception_rate: float | None


@dataclass(frozen=True)
class Gain:
    orders: int
    current_rate: float
    projected_rate: float
    gain_orders: float
    gain_gmv: float

    @property
    def gain_points(self) -> float:
        return self.projected_rate - self.current_rate


class SettlementModel:
    """One logistic regression per industry."""

    def __init__(self, models: Mapping[str, LogisticRegression]) -> None:
        self.models = dict(models)

    @classmethod
    def fit(cls, data: OrderFeatures) -> SettlementModel:
        models: dict[str, LogisticRegression] = {}
        for industry in np.unique(data.industry):
            mask = data.industry == industry
            y = data.settled[mask]
            if mask.sum() < MIN_TRAIN_ORDERS or y.all() or not y.any():
                continue  # too few orders or one class only: no model for this industry
            model = LogisticRegression(C=1e4, max_iter=1000)
            model.fit(data.x[mask], y)
            models[str(industry)] = model
        return cls(models)

    def predict(self, industry: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.full(len(x), np.nan)
        for name, model in self.models.items():
            mask = industry == name
            if mask.any():
                out[mask] = model.predict_proba(x[mask])[:, 1]
        return out

    def coefficients(self) -> dict[str, dict[str, float]]:
        return {
            k: {"intercept": float(m.intercept_[0])}
            | {f: float(c) for f, c in zip(FEATURES, m.coef_[0], strict=True)}
            for k, m in self.models.items()
        }


def expected_after(predict: Predict, data: OrderFeatures, targets: Targets) -> np.ndarray:
    """Expected settlement probability per order once the weak metrics meet ``targets``."""
    x = data.x.copy()
    mean_h = float(x[:, 0].mean()) if len(x) else 0.0
    if targets.pickup_h_avg is not None and mean_h > targets.pickup_h_avg > 0:
        x[:, 0] *= targets.pickup_h_avg / mean_h
    q_late = _flip_share(x[:, 1], None if targets.on_time_rate is None else 1 - targets.on_time_rate)
    q_exc = _flip_share(x[:, 2], targets.exception_rate)
    total = np.zeros(len(x))
    for flip_late in (False, True):
        for flip_exc in (False, True):
            weight = (q_late if flip_late else 1 - q_late) * (q_exc if flip_exc else 1 - q_exc)
            if weight == 0:
                continue
            variant = x.copy()
            if flip_late:
                variant[:, 1] = 0.0
            if flip_exc:
                variant[:, 2] = 0.0
            total += weight * predict(data.industry, variant)
    return total


def _flip_share(flags: np.ndarray, target_rate: float | None) -> float:
    """Share of flagged orders to clear so the rate meets the target (0 if it already does)."""
    rate = float(flags.mean()) if len(flags) else 0.0
    if target_rate is None or rate <= target_rate or rate == 0:
        return 0.0
    return (rate - target_rate) / rate


def gain(predict: Predict, data: OrderFeatures, targets: Targets) -> Gain:
    """Current vs projected settlement rate for one merchant's orders, in orders and GMV."""
    if len(data.x) == 0:
        raise DiagnosisError("settlement gain: the merchant has no settled-known shipped orders")
    now = predict(data.industry, data.x)
    after = expected_after(predict, data, targets)
    if np.isnan(now).any() or np.isnan(after).any():
        raise DiagnosisError("settlement gain: no model for the merchant's industry")
    delta = after - now
    return Gain(
        orders=len(now),
        current_rate=float(now.mean()),
        projected_rate=float(after.mean()),
        gain_orders=float(delta.sum()),
        gain_gmv=float((delta * data.amount).sum()),
    )


@dataclass(frozen=True)
class Validation:
    merchants: int
    predicted_gain: float
    true_gain: float
    brier: float
    calibration_gap: float  # max |observed - predicted| over deciles of prediction

    @property
    def relative_error(self) -> float:
        return abs(self.predicted_gain - self.true_gain) / abs(self.true_gain)


def validate(
    train: OrderFeatures,
    test: OrderFeatures,
    truth: Predict,
    targets_for: Callable[[str], Targets],
) -> Validation:
    """Fit on ``train``; on held-out merchants compare predicted with true gain (in orders)."""
    model = SettlementModel.fit(train)
    predicted = true = 0.0
    merchants = np.unique(test.merchant_id)
    for merchant in merchants:
        data = test.subset(test.merchant_id == merchant)
        targets = targets_for(str(merchant))
        predicted += gain(model.predict, data, targets).gain_orders
        true += gain(truth, data, targets).gain_orders
    p = model.predict(test.industry, test.x)
    y = test.settled.astype(float)
    edges = np.quantile(p, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 9)
    gaps = [abs(y[bins == b].mean() - p[bins == b].mean()) for b in range(10) if (bins == b).any()]
    return Validation(
        merchants=len(merchants),
        predicted_gain=predicted,
        true_gain=true,
        brier=float(np.mean((p - y) ** 2)),
        calibration_gap=float(max(gaps)),
    )
