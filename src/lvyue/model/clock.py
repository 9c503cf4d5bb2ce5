"""The business clock: the wall clock, or — for the demo only — a documented demo clock.

``LVYUE_DEMO_CLOCK=ANCHOR@SINCE`` (two ISO 8601 instants) makes the business clock read
ANCHOR at the real instant SINCE and run forward at real speed from there, the same in the
service, the worker and the CLI (each reads the variable). `lvyue demo` sets it so that the
simulated 2023–24 marketplace is "now" (inside the 2024 New Year and Valentine windows);
`serve` and `worker` refuse it on any database but SQLite, so production never runs on it.
Security times (token expiry, sessions) always use the wall clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from lvyue.model.time import InstantError, format_instant, parse_instant

DEMO_CLOCK_ENV = "LVYUE_DEMO_CLOCK"


def demo_clock(anchor: datetime, since: datetime) -> str:
    """The variable's value: the business clock reads ``anchor`` at real ``since``."""
    return f"{format_instant(anchor)}@{format_instant(since)}"


def demo_clock_set() -> bool:
    return bool(os.environ.get(DEMO_CLOCK_ENV))


def business_now() -> datetime:
    """Now, for deadlines and sweeps: the demo clock when set, else the wall clock."""
    real = datetime.now(UTC).replace(microsecond=0)
    raw = os.environ.get(DEMO_CLOCK_ENV, "").strip()
    if not raw:
        return real
    anchor, sep, since = raw.partition("@")
    try:
        if not sep:
            raise InstantError(raw)
        return parse_instant(anchor) + (real - parse_instant(since))
    except InstantError:
        raise ValueError(f"{DEMO_CLOCK_ENV}={raw!r}: expected ANCHOR@SINCE (ISO 8601)") from None
