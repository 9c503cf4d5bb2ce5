"""Report centre (报备中心, SF-8): a merchant files, the operator approves or rejects.

A report moves ``pending`` → ``approved`` | ``rejected`` (reason required) or
``withdrawn``. Filing is validated here (period ≤ 21 days, latest ship date ≤ 7 days after
the period ends, ≤ 10 areas, evidence limits) with errors naming the field. An approved
report reaches verdicts only through the engine, which reads it as a facts-format row
(``as_fact``): with a latest ship date it sets a new deadline, without one it waives.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from lvyue.geo import divisions
from lvyue.model.enums import ReportType
from lvyue.model.time import BEIJING
from lvyue.workflows.fields import Area, Day, Ident, Text
from lvyue.workflows.machine import Machine, Refusal, Transition

WORKFLOW = "report"

MAX_PERIOD_DAYS = 21  # SF-8: affected shipping period at most 21 days
MAX_AFTER_PERIOD = timedelta(days=7)  # SF-8: latest ship date ≤ 7 days after the period
MAX_REGIONS = 10  # SF-8: at most 10 areas
MAX_ORDERS = 500  # lvyue default: orders one report may cover

# Evidence uploads (lvyue defaults, like the platform's upload widget).
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_EVIDENCE_FILES = 10
EVIDENCE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf", "video/mp4"})

MACHINE = Machine(
    WORKFLOW,
    "pending",
    [
        Transition("pending", "approve", "approved", "SF-8"),
        Transition("pending", "reject", "rejected", "SF-8"),
        Transition("pending", "withdraw", "withdrawn", "SF-8"),
    ],
)


class ForceMajeureReason(StrEnum):
    """不可抗力 kinds the report centre offers (SF-8)."""

    NATURAL_DISASTER = "natural_disaster"  # 自然灾害
    EPIDEMIC = "epidemic"  # 疫情
    POWER_CUT = "power_cut"  # 停电
    WEATHER = "weather"  # 恶劣天气
    CONFERENCE_EVENT = "conference_event"  # 会议/活动
    FIRE = "fire"  # 火灾
    NETWORK_OUTAGE = "network_outage"  # 网络故障
    OTHER = "other"


class ReportDraft(BaseModel):
    """What a merchant files. Dates are Beijing calendar days.

    Fields are validated in declaration order, each against the ones before it, so every
    error is reported at the field at fault (SF-8's limits).
    """

    type: ReportType
    reason: ForceMajeureReason | None = Field(
        default=None, validate_default=True, description="required for force_majeure"
    )
    description: Text
    order_ids: list[Ident] = Field(
        default_factory=list, max_length=MAX_ORDERS, validate_default=True
    )
    period_start: Day | None = Field(default=None, validate_default=True)
    period_end: Day | None = Field(default=None, validate_default=True)
    latest_ship_date: Day | None = Field(
        default=None, description="new latest ship date; without one an approval waives"
    )
    regions: list[Area] = Field(default_factory=list)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: ForceMajeureReason | None, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if kind is None:
            return value  # the type itself is invalid and reported
        if kind is ReportType.FORCE_MAJEURE and value is None:
            raise ValueError("a force-majeure report needs its reason (SF-8)")
        if kind is not ReportType.FORCE_MAJEURE and value is not None:
            raise ValueError("only force-majeure reports take a reason")
        return value

    @field_validator("order_ids")
    @classmethod
    def _orders(cls, value: list[str], info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if kind is not None and kind is not ReportType.FORCE_MAJEURE and not value:
            raise ValueError(f"a {kind.value} report names the orders it covers")
        if len(set(value)) != len(value):
            raise ValueError("an order is listed twice")
        return value

    @field_validator("period_start")
    @classmethod
    def _start(cls, value: date | None, info: ValidationInfo) -> Any:
        if info.data.get("type") is ReportType.FORCE_MAJEURE and value is None:
            raise ValueError("a force-majeure report needs the affected period")
        return value

    @field_validator("period_end")
    @classmethod
    def _end(cls, value: date | None, info: ValidationInfo) -> Any:
        start = info.data.get("period_start")
        if (start is None) != (value is None) and "period_start" in info.data:
            raise ValueError("give both period_start and period_end, or neither")
        if start is not None and value is not None:
            days = (value - start).days + 1
            if days < 1:
                raise ValueError("the period ends before it starts")
            if days > MAX_PERIOD_DAYS:
                raise ValueError(f"the period covers {days} days, at most 21 (SF-8)")
        return value

    @field_validator("latest_ship_date")
    @classmethod
    def _latest(cls, value: date | None, info: ValidationInfo) -> Any:
        start, end = info.data.get("period_start"), info.data.get("period_end")
        if value is not None and end is not None and value > end + MAX_AFTER_PERIOD:
            raise ValueError("at most 7 days after the affected period ends (SF-8)")
        if value is not None and start is not None and value < start:
            raise ValueError("before the affected period starts")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> Any:
        if len(value) > MAX_REGIONS:
            raise ValueError(f"{len(value)} areas, at most 10 (SF-8)")
        unknown = [area for area in value if area not in known_areas()]
        if unknown:
            raise ValueError(f"unknown area {unknown[0]!r}: a GB/T 2260 division name or code")
        if len(set(value)) != len(value):
            raise ValueError("an area is listed twice")
        return value


@functools.cache
def known_areas() -> frozenset[str]:
    """Names and GB/T 2260 codes of every province, city and district (地区)."""
    names: set[str] = set()
    for province in divisions():
        names |= {province.name, province.code}
        for city in province.cities:
            names |= {city.name, city.code}
            names |= {n for d in city.districts for n in (d.name, d.code)}
    return frozenset(names)


def new_deadline(latest_ship_date: date | None) -> datetime | None:
    """The last instant of the latest ship date, Beijing time, as UTC (None: a waiver)."""
    if latest_ship_date is None:
        return None
    end = datetime.combine(latest_ship_date, datetime.max.time().replace(microsecond=0))
    return end.replace(tzinfo=BEIJING).astimezone(UTC)


# The first bytes each accepted type starts with (the declared type must match the content).
_MAGIC: dict[str, tuple[int, bytes]] = {
    "image/jpeg": (0, b"\xff\xd8\xff"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "application/pdf": (0, b"%PDF-"),
    "video/mp4": (4, b"ftyp"),
}


def check_evidence(content_type: str, data: bytes, files_so_far: int) -> None:
    """Evidence upload limits; ``Refusal`` naming the field (SF-8 asks for evidence)."""
    base_type = content_type.split(";")[0].strip().lower()
    if base_type not in EVIDENCE_TYPES:
        allowed = ", ".join(sorted(EVIDENCE_TYPES))
        raise Refusal(f"evidence type {base_type!r} not accepted ({allowed})", field="file")
    if not data:
        raise Refusal("evidence file is empty", field="file")
    if len(data) > MAX_EVIDENCE_BYTES:
        raise Refusal(f"evidence file of {len(data)} bytes exceeds 10 MiB", field="file")
    offset, magic = _MAGIC[base_type]
    if data[offset : offset + len(magic)] != magic:
        raise Refusal(f"evidence file is not a {base_type} file", field="file")
    if files_so_far >= MAX_EVIDENCE_FILES:
        raise Refusal(f"a report takes at most {MAX_EVIDENCE_FILES} evidence files", field="file")


def check_review(event: str, reason: str | None, evidence_count: int) -> None:
    """An operator review: a rejection needs a reason, an approval needs evidence (SF-8)."""
    if event == "reject" and not (reason and reason.strip()):
        raise Refusal("a rejection needs a reason", clause="SF-8", field="reason")
    if event == "approve" and evidence_count == 0:
        raise Refusal(
            "cannot approve a report without evidence (SF-8)", clause="SF-8", field="evidence"
        )


def as_fact(
    report_id: str,
    merchant_id: str,
    status: str,
    draft: ReportDraft,
) -> dict[str, Any]:
    """The report as a row of the facts format's ``reports`` table (read by the engine)."""
    deadline = new_deadline(draft.latest_ship_date)
    return {
        "report_id": report_id,
        "merchant_id": merchant_id,
        "type": draft.type.value,
        "status": status,
        "order_ids": ";".join(draft.order_ids),
        "new_deadline": deadline,
        "period_start": draft.period_start,
        "period_end": draft.period_end,
        "regions": ";".join(draft.regions),
    }
