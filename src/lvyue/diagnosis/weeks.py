"""ISO weeks in Beijing time (governance weeks start Monday 00:00 Beijing)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from lvyue.diagnosis.errors import DiagnosisError
from lvyue.model.time import BEIJING

_EPOCH_MONDAY = date(1969, 12, 29)  # week_no 0 in source.derive
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(label: str) -> int:
    """``2023-W05`` → week number as computed by the shipments table."""
    match = _WEEK.match(label.strip())
    if not match:
        raise DiagnosisError(f"week {label!r}: expected YYYY-Www, e.g. 2023-W05")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise DiagnosisError(f"week {label!r}: {exc}") from None
    return (monday - _EPOCH_MONDAY).days // 7


def week_of(day: date) -> int:
    """The week number of a Beijing calendar day."""
    return (day - _EPOCH_MONDAY).days // 7


def week_monday(week_no: int) -> date:
    return _EPOCH_MONDAY + timedelta(weeks=week_no)


def week_label(week_no: int) -> str:
    year, week, _ = week_monday(week_no).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week_no: int) -> tuple[int, int]:
    """[Monday 00:00, next Monday 00:00) Beijing, in UTC epoch seconds."""
    start = int(week_start(week_no).timestamp())
    return start, start + 7 * 86_400


def week_start(week_no: int) -> datetime:
    """Monday 00:00 Beijing of the week, aware."""
    monday = week_monday(week_no)
    return datetime(monday.year, monday.month, monday.day, tzinfo=BEIJING)
