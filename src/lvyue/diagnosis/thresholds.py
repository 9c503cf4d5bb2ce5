"""Governance thresholds and minimum volumes, read from the rulebook (clock: week start)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook import Clock, OrderContext, load_rulebook

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
    rulebook = load_rulebook()
    context = OrderContext(
        merchant_type=MerchantType.DOMESTIC,
        category="",
        ship_mode=ShipMode.SPOT,
        clocks={Clock.WEEK_START: at},
    )
    values: dict[str, int | float] = {}
    counts = {f.name for f in fields(Thresholds) if f.type in (int, "int")}
    for name, parameter in PARAMETERS.items():
        answer = rulebook.resolve(parameter, context)
        if answer is None or not isinstance(answer.value, int | float):
            raise DiagnosisError(f"rulebook: no number for {parameter} at {at.isoformat()}")
        values[name] = int(answer.value) if name in counts else float(answer.value)
    return Thresholds(**values)  # type: ignore[arg-type]  # keys are exactly the fields
