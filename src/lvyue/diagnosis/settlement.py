"""Predicted settlement gain (LD-6, LD-7): settlement (结算) against logistics quality.

Per industry, a logistic regression of "order settled" on the order's pickup delay beyond
24 h of shipping, transit days, days beyond the lane standard, and exception scan. A
logistic model fitted by maximum likelihood is calibrated on its training population; the
calibration is checked on held-out merchants (docs/diagnosis-model.md).

The counterfactual "weak metrics reach the peer target" is an expectation, not a resample:
pickup and transit hours are scaled so the merchant's averages meet the targets, and a share
of exception orders is made clean so the rate meets its target. The same transform is
applied to the true model in validation, so only the fitted model's error remains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lvyue.diagnosis.errors import DiagnosisError

RAW = ("pickup_h", "elapsed_h", "standard_h", "exception")
FEATURES = ("pickup_excess_d", "late_ratio", "exception", "pickup_x_exception", "late_x_exception")
MIN_TRAIN_ORDERS = 200
PICKUP_STANDARD_H = 24.0  # DR-2: first pickup scan within 24 h of shipping
# (industry codes, raw measurements in RAW order) → settlement probability per order
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def design(raw: np.ndarray) -> np.ndarray:
    """Model inputs from raw measurements: days of pickup beyond 24 h; transit beyond the lane
    standard, in standards (hinge-shaped: being early earns nothing); exception."""
    pickup_h, elapsed_h, standard_h, exception = raw.T
    pickup = np.maximum(pickup_h - PICKUP_STANDARD_H, 0.0) / 24.0
    late = np.maximum(elapsed_h / np.maximum(standard_h, 1.0) - 1.0, 0.0)
    return np.column_stack([pickup, late, exception, pickup * exception, late * exception])


@dataclass(frozen=True)
class OrderFeatures:
    """Picked-up orders with a known settlement outcome (signed or not: a parcel returned to
    the sender counts, with its time to the last scan): the model's population."""

    merchant_id: np.ndarray
    industry: np.ndarray
    amount: np.ndarray
    raw: np.ndarray  # columns RAW
    settled: np.ndarray

    @classmethod
    def from_arrow(cls, table: pa.Table) -> OrderFeatures:
        """From shipments columns: merchant_id, industry, amount, pickup_from_ship_h,
        elapsed_h, standard_h, exception, settled."""
        df = table.to_pandas()
        keep = (
            df["settled"].notna()
            & df["pickup_from_ship_h"].notna()
            & df["elapsed_h"].notna()
            & df["standard_h"].notna()
        )
        df = df[keep]
        raw = np.column_stack(
            [
                df["pickup_from_ship_h"].to_numpy(float).clip(min=0.0),
                df["elapsed_h"].to_numpy(float).clip(min=0.0),
                df["standard_h"].to_numpy(float),
                df["exception"].fillna(False).to_numpy(float),
            ]
        )
        return cls(
            merchant_id=df["merchant_id"].to_numpy(str),
            industry=df["industry"].fillna("").to_numpy(str),
            amount=df["amount"].to_numpy(float),
            raw=raw.reshape(-1, len(RAW)),
            settled=df["settled"].to_numpy(bool),
        )

    def subset(self, mask: np.ndarray) -> OrderFeatures:
        return OrderFeatures(
            self.merchant_id[mask],
            self.industry[mask],
            self.amount[mask],
            self.raw[mask],
            self.settled[mask],
        )


@dataclass(frozen=True)
class Targets:
    """What the merchant's weak metrics should reach (None: leave as is)."""

    pickup_h_avg: float | None  # shipping → pickup, hours
    transit_h_avg: float | None  # pickup → signed, hours
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
    """One logistic regression (scikit-learn) per industry."""

    def __init__(self, models: Mapping[str, Any]) -> None:
        self.models = dict(models)

    @classmethod
    def fit(cls, data: OrderFeatures) -> SettlementModel:
        from sklearn.linear_model import LogisticRegression  # slow import: only when fitting

        models: dict[str, Any] = {}
        for industry in np.unique(data.industry):
            mask = data.industry == industry
            y = data.settled[mask]
            if mask.sum() < MIN_TRAIN_ORDERS or y.all() or not y.any():
                continue  # too few orders or one class only: no model for this industry
            model = LogisticRegression(C=1e4, max_iter=2000)
            model.fit(design(data.raw[mask]), y)
            models[str(industry)] = model
        return cls(models)

    def predict(self, industry: np.ndarray, raw: np.ndarray) -> np.ndarray:
        out = np.full(len(raw), np.nan)
        for name, model in self.models.items():
            mask = industry == name
            if mask.any():
                out[mask] = model.predict_proba(design(raw[mask]))[:, 1]
        return out

    def coefficients(self) -> dict[str, dict[str, float]]:
        return {
            k: {"intercept": float(m.intercept_[0])}
            | {f: float(c) for f, c in zip(FEATURES, m.coef_[0], strict=True)}
            for k, m in self.models.items()
        }


def improved(raw: np.ndarray, targets: Targets) -> tuple[np.ndarray, float]:
    """Raw measurements with pickup and transit hours scaled to their targets, and the share
    of exception orders to clear so the exception rate meets its target (also used by the
    conversion model, LD-1)."""
    raw = raw.copy()
    for column, target in ((0, targets.pickup_h_avg), (1, targets.transit_h_avg)):
        mean = float(raw[:, column].mean()) if len(raw) else 0.0
        if target is not None and mean > target > 0:
            raw[:, column] *= target / mean  # every order a bit faster, same shape
    return raw, _flip_share(raw[:, 3], targets.exception_rate)


def expected_after(predict: Predict, data: OrderFeatures, targets: Targets) -> np.ndarray:
    """Expected settlement probability per order once the weak metrics meet ``targets``."""
    raw, share = improved(data.raw, targets)
    cleared = raw.copy()
    cleared[:, 3] = 0.0
    now = predict(data.industry, raw)
    if share == 0.0:
        return now
    return np.asarray((1 - share) * now + share * predict(data.industry, cleared))


def _flip_share(flags: np.ndarray, target_rate: float | None) -> float:
    """Share of flagged orders to clear so the rate meets the target (0 if it already does)."""
    rate = float(flags.mean()) if len(flags) else 0.0
    if target_rate is None or rate <= target_rate or rate == 0:
        return 0.0
    return (rate - target_rate) / rate


def gain(predict: Predict, data: OrderFeatures, targets: Targets) -> Gain:
    """Current vs projected settlement rate for one merchant's orders, in orders and GMV."""
    if len(data.raw) == 0:
        raise DiagnosisError("settlement gain: the merchant has no settled-known shipped orders")
    now = predict(data.industry, data.raw)
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
    p = model.predict(test.industry, test.raw)
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
