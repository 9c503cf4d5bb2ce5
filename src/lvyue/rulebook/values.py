"""The typed values a clause can give a parameter, and how they read from YAML.

Five kinds, kept few on purpose: a duration counted from one of the order's clocks, a fixed
instant, a boolean, a number, and a set of ship modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lvyue.model.enums import ShipMode
from lvyue.model.time import InstantError, format_beijing, parse_instant
from lvyue.rulebook.context import Clock


class ValueKind(StrEnum):
    DURATION = "duration"
    INSTANT = "instant"
    BOOL = "bool"
    NUMBER = "number"
    MODES = "modes"


@dataclass(frozen=True)
class Duration:
    """A limit of ``seconds`` counted from the order's ``anchor`` clock (e.g. 48 h after pay)."""

    seconds: int
    anchor: Clock

    def __str__(self) -> str:
        return f"{_human_seconds(self.seconds)} after {self.anchor.value}"


@dataclass(frozen=True)
class Instant:
    """A fixed instant (aware UTC), e.g. SF-4's 2023-02-04 23:59:59 Beijing time."""

    at: datetime

    def __str__(self) -> str:
        return format_beijing(self.at)


Value = Duration | Instant | bool | float | frozenset[ShipMode]


class BadValue(ValueError):
    """A YAML value that does not fit the parameter's kind (message: the problem only)."""


def format_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, frozenset):
        return ";".join(sorted(m.value for m in value))
    return str(value)


def value_to_json(value: Value) -> object:
    if isinstance(value, Duration):
        return {"seconds": value.seconds, "after": value.anchor.value}
    if isinstance(value, Instant):
        return format_beijing(value.at)
    if isinstance(value, frozenset):
        return sorted(m.value for m in value)
    return value


_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def parse_value(raw: object, kind: ValueKind, default_anchor: Clock | None) -> Value:
    """Reads a YAML value of the given kind; raises BadValue with a short reason."""
    if kind is ValueKind.DURATION:
        return _parse_duration(raw, default_anchor)
    if kind is ValueKind.INSTANT:
        if not isinstance(raw, str | datetime):
            raise BadValue(f"expected an instant like '2023-02-04 23:59:59', got {raw!r}")
        try:
            return Instant(parse_instant(raw))
        except InstantError as exc:
            raise BadValue(str(exc)) from None
    if kind is ValueKind.BOOL:
        if not isinstance(raw, bool):
            raise BadValue(f"expected true or false, got {raw!r}")
        return raw
    if kind is ValueKind.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise BadValue(f"expected a number, got {raw!r}")
        return float(raw)
    return _parse_modes(raw)


def _parse_duration(raw: object, default_anchor: Clock | None) -> Duration:
    if not isinstance(raw, Mapping):
        raise BadValue(f"expected a duration like {{hours: 48}}, got {raw!r}")
    unknown = set(raw) - set(_UNITS) - {"after"}
    if unknown:
        raise BadValue(f"unknown duration key {sorted(map(str, unknown))[0]!r}")
    seconds = 0
    for unit, factor in _UNITS.items():
        amount = raw.get(unit, 0)
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise BadValue(f"{unit} must be a non-negative number, got {amount!r}")
        seconds += round(amount * factor)
    anchor_raw = raw.get("after", default_anchor.value if default_anchor else None)
    try:
        anchor = Clock(anchor_raw)
    except ValueError:
        raise BadValue(f"unknown clock {anchor_raw!r} in 'after'") from None
    return Duration(seconds, anchor)


def _parse_modes(raw: object) -> frozenset[ShipMode]:
    if raw == "all":
        return frozenset(ShipMode)
    if not isinstance(raw, list):
        raise BadValue(f"expected a list of ship modes or 'all', got {raw!r}")
    try:
        return frozenset(ShipMode(m) for m in raw)
    except ValueError:
        raise BadValue(f"unknown ship mode in {raw!r}") from None


def _human_seconds(seconds: int) -> str:
    if seconds == 0:
        return "0 s"
    if seconds % 86400 == 0 and seconds >= 3 * 86400:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds} s"
