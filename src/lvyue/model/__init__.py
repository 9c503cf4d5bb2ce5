"""Domain types shared by every layer. Imports nothing else of lvyue."""

from lvyue.model.enums import (
    AfterSaleType,
    Check,
    InspectionResult,
    MerchantType,
    ReportStatus,
    ReportType,
    ShipMode,
    TrackingKind,
    VerdictStatus,
)
from lvyue.model.time import (
    BEIJING,
    InstantError,
    as_utc,
    epoch_seconds,
    format_beijing,
    format_instant,
    from_epoch,
    parse_instant,
    to_beijing,
)
from lvyue.model.tracking import TrackingEvent

__all__ = [
    "BEIJING",
    "AfterSaleType",
    "Check",
    "InspectionResult",
    "InstantError",
    "MerchantType",
    "ReportStatus",
    "ReportType",
    "ShipMode",
    "TrackingEvent",
    "TrackingKind",
    "VerdictStatus",
    "as_utc",
    "epoch_seconds",
    "format_beijing",
    "format_instant",
    "from_epoch",
    "parse_instant",
    "to_beijing",
]
