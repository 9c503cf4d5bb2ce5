"""Predicted conversion gain (LD-1): conversion rate (转化率, buyers / visitors) against
logistics quality.

One pooled logistic regression over merchants, weighted by visitors: an intercept per
industry, shared slopes on the merchant's means over its shipped orders of pickup days beyond
24 h, transit beyond the lane standard (in standards) and its exception rate. Conversion is
one number per merchant, so there are tens of data points per industry: too few for a model
each (docs/decisions/diagnosis-conversion-model.md).

The counterfactual is the settlement model's (``settlement.improved``): pickup and transit
hours scaled to the peer targets, the exception rate lowered to its target. The change in
log-odds is applied to the merchant's observed conversion, so its own level (shop, prices,
traffic) is kept and only the logistics effect is modelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.settlement import PICKUP_STANDARD_H, Targets, improved

FEATURES = ("mean_pickup_excess", "mean_transit_excess", "exception_rate")
COLUMNS = ("merchant_id", "industry", "pickup_from_ship_h", "elapsed_h", "standard_h", "exception")
MIN_MERCHANTS = 10
PER_1000 = 1000.0
# (industry per merchant, FEATURES columns per merchant) → conversion rate per merchant
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Observed:
    """The facts' ``conversion`` table: visitors and buyers per merchant."""

    visitors: dict[str, int]
    buyers: dict[str, int]

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Observed:
        """Columns merchant_id, visitors and buyers (or ``orders``, as the simulator writes)."""
        names = table.column_names
        buyers = "buyers" if "buyers" in names else "orders"
        for required in ("merchant_id", "visitors", buyers):
            if required not in names:
                raise DiagnosisError(f"conversion: missing column {required!r}")
        out_v: dict[str, int] = {}
        out_b: dict[str, int] = {}
        rows = table.select(["merchant_id", "visitors", buyers]).to_pylist()
        for i, row in enumerate(rows, start=1):
            v, b = row["visitors"], row[buyers]
            try:
                v, b = int(v), int(b)
            except (TypeError, ValueError):
                raise DiagnosisError(
                    f"conversion row {i}: visitors/{buyers} not integers"
                ) from None
            if v < 0 or b < 0 or b > v:
                raise DiagnosisError(f"conversion row {i}: needs 0 <= {buyers} <= visitors")
            merchant = str(row["merchant_id"])
            if merchant in out_v:
                raise DiagnosisError(f"conversion row {i}: merchant {merchant} listed twice")
            out_v[merchant], out_b[merchant] = v, b
        return cls(out_v, out_b)

    def rate(self, merchant_id: str) -> float | None:
        v = self.visitors.get(merchant_id, 0)
        return self.buyers[merchant_id] / v if v else None


@dataclass(frozen=True)
class ShippedOrders:
    """Shipped orders' raw measurements (settlement.RAW order; a missing pickup or transit
    counts as no excess) per merchant, with the merchant's industry."""

    merchant_id: np.ndarray
    industry: np.ndarray
    raw: np.ndarray

    @classmethod
    def from_arrow(cls, table: pa.Table) -> ShippedOrders:
        df = table.to_pandas()
        standard = df["standard_h"].to_numpy(float)
        elapsed = df["elapsed_h"].to_numpy(float)
        raw = np.column_stack(
            [
                np.nan_to_num(df["pickup_from_ship_h"].to_numpy(float), nan=0.0).clip(min=0.0),
                np.where(np.isnan(elapsed), np.nan_to_num(standard, nan=1.0), elapsed).clip(0.0),
                np.nan_to_num(standard, nan=1.0),
                df["exception"].fillna(False).to_numpy(float),
            ]
        ).reshape(-1, 4)
        return cls(df["merchant_id"].to_numpy(str), df["industry"].fillna("").to_numpy(str), raw)

    def of(self, merchant_id: str) -> np.ndarray:
        return np.asarray(self.raw[self.merchant_id == merchant_id], dtype=float)

    def by_merchant(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(merchant ids, their industries, FEATURES per merchant), in one grouped pass."""
        ids, first, inverse = np.unique(self.merchant_id, return_index=True, return_inverse=True)
        per_order = excess(self.raw)
        counts = np.bincount(inverse, minlength=len(ids)).astype(float)
        x = np.column_stack(
            [np.bincount(inverse, weights=c, minlength=len(ids)) / counts for c in per_order.T]
        )
        return ids, self.industry[first], x.reshape(-1, len(FEATURES))


def excess(raw: np.ndarray) -> np.ndarray:
    """Per order: days of pickup beyond 24 h, transit beyond the lane standard (in standards),
    exception — the terms whose means the simulator's true conversion reads."""
    pickup_h, elapsed_h, standard_h, exception = raw.T
    pickup = np.maximum(pickup_h - PICKUP_STANDARD_H, 0.0) / 24.0
    late = np.maximum(elapsed_h / np.maximum(standard_h, 1.0) - 1.0, 0.0)
    return np.column_stack([pickup, late, exception])


def features(raw: np.ndarray) -> np.ndarray:
    """One merchant's FEATURES: means over its shipped orders of ``excess``."""
    return np.asarray(excess(raw).mean(axis=0), dtype=float)


def features_after(raw: np.ndarray, targets: Targets) -> np.ndarray:
    """FEATURES once the weak metrics meet ``targets`` (the same transform as settlement)."""
    scaled, share = improved(raw, targets)
    out = features(scaled)
    out[2] *= 1.0 - share
    return out


class ConversionModel:
    """Pooled binomial logistic regression (scikit-learn) with industry intercepts."""

    def __init__(self, model: Any, industries: list[str]) -> None:
        self.model = model
        self.industries = industries

    @classmethod
    def fit(
        cls, industry: np.ndarray, x: np.ndarray, visitors: np.ndarray, buyers: np.ndarray
    ) -> ConversionModel:
        """Each merchant is two weighted rows: its buyers (y=1) and its other visitors (y=0)."""
        from sklearn.linear_model import LogisticRegression  # slow import: only when fitting

        keep = visitors > 0
        if keep.sum() < MIN_MERCHANTS:
            raise DiagnosisError(
                f"conversion: {int(keep.sum())} merchants with visitors, need {MIN_MERCHANTS}"
            )
        industries = sorted(set(industry[keep].tolist()))
        model = cls(None, industries)
        design = model._design(industry[keep], x[keep])
        y = np.r_[np.ones(len(design)), np.zeros(len(design))]
        weight = np.r_[buyers[keep], visitors[keep] - buyers[keep]].astype(float)
        fitted = LogisticRegression(
            C=1e6, fit_intercept=False, solver="newton-cholesky", tol=1e-10, max_iter=200
        )
        fitted.fit(np.vstack([design, design]), y, sample_weight=weight / weight.mean())
        return cls(fitted, industries)

    def _design(self, industry: np.ndarray, x: np.ndarray) -> np.ndarray:
        dummies = (industry[:, None] == np.array(self.industries)[None, :]).astype(float)
        return np.column_stack([dummies, x])

    def slopes(self) -> dict[str, float]:
        coef = self.model.coef_[0][len(self.industries) :]
        return {f: float(c) for f, c in zip(FEATURES, coef, strict=True)}

    def delta_logit(self, x_now: np.ndarray, x_after: np.ndarray) -> float:
        """Change in log-odds of conversion (the industry intercept cancels)."""
        return float(self.model.coef_[0][len(self.industries) :] @ (x_after - x_now))

    def predict(self, industry: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Conversion rate per merchant; NaN for an industry the model has not seen."""
        known = np.isin(industry, self.industries)
        out = np.full(len(x), np.nan)
        if known.any():
            out[known] = self.model.predict_proba(self._design(industry[known], x[known]))[:, 1]
        return out


@dataclass(frozen=True)
class ConversionGain:
    """LD-1: the merchant's conversion now and if its weak metrics reached the peer target."""

    visitors: int
    current_rate: float  # observed buyers / visitors
    projected_rate: float
    gain_per_1000: float  # extra buyers per 1,000 visitors
    clause: str = "LD-1"


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def gain(
    model: ConversionModel, raw: np.ndarray, observed: float, visitors: int, targets: Targets
) -> ConversionGain:
    """Observed conversion moved by the model's change in log-odds under ``targets``."""
    if len(raw) == 0:
        raise DiagnosisError("conversion gain: the merchant has no shipped orders")
    if not 0.0 < observed < 1.0:
        raise DiagnosisError(f"conversion gain: observed conversion {observed:.1%} leaves no room")
    delta = model.delta_logit(features(raw), features_after(raw, targets))
    projected = 1.0 / (1.0 + np.exp(-(_logit(observed) + delta)))
    projected = float(projected)
    return ConversionGain(visitors, observed, projected, PER_1000 * (projected - observed))


def fit_from(orders: ShippedOrders, observed: Observed) -> ConversionModel:
    """The model over every merchant with shipped orders and visitors."""
    ids, industry, x = orders.by_merchant()
    visitors = np.array([observed.visitors.get(m, 0) for m in ids.tolist()])
    buyers = np.array([observed.buyers.get(m, 0) for m in ids.tolist()])
    return ConversionModel.fit(industry, x, visitors, buyers)
