"""Instants: timezone-aware UTC inside, Beijing time (Asia/Shanghai) only at the edges.

Naive input is read as Beijing time, because every announcement and every platform export
writes its times that way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


class InstantError(ValueError):
    """A text that is not an instant we can read."""


def parse_instant(value: str | datetime | date) -> datetime:
    """Read an instant; naive (or date-only) means Beijing time. Returns aware UTC; text is
    read to the second."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=BEIJING).astimezone(UTC)
    text = value.strip()
    if not text:
        raise InstantError("empty instant")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_loose(text)
    # Facts are kept to the second (the batch reader stores seconds): a fraction written in a
    # cell must not make the service judge 23:59:59.5 late where the batch judges it on time
    return as_utc(parsed).replace(microsecond=0)


def _parse_loose(text: str) -> datetime:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - naive means Beijing, see as_utc
        except ValueError:
            continue
    raise InstantError(f"not an instant: {text!r}")


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as Beijing wall-clock time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01 00:00 Beijing is before year 1 in UTC
        raise InstantError(f"out of range: {moment.isoformat()}") from None


def to_beijing(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(BEIJING)


def format_instant(moment: datetime) -> str:
    """ISO 8601 with the Beijing offset, e.g. ``2023-02-04T23:59:59+08:00``."""
    return to_beijing(moment).isoformat(timespec="seconds")


def format_beijing(moment: datetime) -> str:
    """The way announcements write instants: ``2023-02-04 23:59:59`` (Beijing time)."""
    return to_beijing(moment).strftime("%Y-%m-%d %H:%M:%S")


def epoch_seconds(moment: datetime) -> int:
    return int(as_utc(moment).timestamp())


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def beijing_day_end(day: date) -> datetime:
    """The last second of a Beijing calendar day, as announcements write window ends."""
    start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return (start + timedelta(days=1, seconds=-1)).astimezone(UTC)
