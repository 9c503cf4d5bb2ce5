"""The canonical tracking event every layer shares (物流轨迹节点)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lvyue.model.enums import TrackingKind


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One scan of one parcel, already mapped onto the canonical vocabulary.

    ``time`` is timezone-aware (UTC inside); ``location`` and ``text`` keep what the carrier
    wrote (``text`` is the scan line, e.g. ``快件已到达【杭州转运中心】``).
    """

    carrier: str  # Kuaidi100 code, e.g. "zhongtong"
    waybill: str  # 运单号
    time: datetime
    kind: TrackingKind
    location: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("TrackingEvent.time must be timezone-aware")
