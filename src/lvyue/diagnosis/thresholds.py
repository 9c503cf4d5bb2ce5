"""Governance thresholds and minimum volumes, read from the rulebook (clock: week start)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from lvyue.diagnosis.errors import DiagnosisError

# Parameter names registered by the rulebook; values live in
# rulebook/announcements/logistics-governance.yaml (operator default).
PARAMETERS = {
    "route_on_time_rate_min": "governance.route.on_time_rate_min",
    "route_exception_rate_max": "governance.route.exception_rate_max",
    "outlet_pickup_24h_rate_min": "governance.outlet.pickup_24h_rate_min",
    "min_volume": "governance.min_volume",
    "control_after_weeks": "governance.control_after_weeks",
    "lift_after_weeks": "governance.lift_after_weeks",
    "min_history_orders": "diagnosis.min_history_orders",
}


@dataclass(frozen=True)
class Thresholds:
    route_on_time_rate_min: float
    route_exception_rate_max: float
    outlet_pickup_24h_rate_min: float
    min_volume: int
    control_after_weeks: int
    lift_after_weeks: int
    min_history_orders: int


def from_rulebook(at: datetime) -> Thresholds:
    """Resolve every parameter in force at ``at`` (a week start, aware)."""
    try:
        from lvyue.model.enums import MerchantType, ShipMode
        from lvyue.rulebook import load_rulebook  # type: ignore[attr-defined, unused-ignore]
        from lvyue.rulebook.context import Clock, OrderContext
    except ImportError as exc:  # pragma: no cover - only before the rulebook lands
        raise DiagnosisError(f"rulebook unavailable: {exc}") from None
    rulebook = load_rulebook()
    context = OrderContext(
        merchant_type=MerchantType.DOMESTIC,
        category="",
        ship_mode=ShipMode.SPOT,
        clocks={Clock.WEEK_START: at},
    )
    values: dict[str, float] = {}
    for field, parameter in PARAMETERS.items():
        resolved = rulebook.resolve(parameter, context)
        value = getattr(resolved, "value", resolved)
        if value is None:
            raise DiagnosisError(f"rulebook: no value for {parameter} at {at.isoformat()}")
        values[field] = float(value)
    kinds = {f.name: f.type for f in fields(Thresholds)}
    return Thresholds(
        **{k: (int(v) if kinds[k] in (int, "int") else v) for k, v in values.items()}  # type: ignore[arg-type]
    )
