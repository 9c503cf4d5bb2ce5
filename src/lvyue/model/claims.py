"""Logistics claims (物流宣传) read from promotion text (VF-9), by the phrase table
``claims.yaml`` (data: ours, the seed names no phrase). It lives in ``model`` because the
simulator (which may not import the rulebook) and the checks share it.

A claim promises an event (``ship`` or ``delivery``) by a deadline that is linear in the
payment instant: ``pay_weight × pay + day_weight × end_of_pay_day(pay) + offset_s``
(:func:`deadline`). One formula serves the batch expressions (Ibis columns), the simulator
(numpy arrays) and a single order (ints): the claim is defined once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from lvyue.model.time import BEIJING, to_beijing

DAY_S = 86_400
BEIJING_OFFSET_S = 8 * 3600
EVENTS = ("ship", "delivery")
BASES = ("pay", "pay_day_end", "date")
N = TypeVar("N")


class ClaimTableError(ValueError):
    """claims.yaml is malformed (one line naming the entry)."""


@dataclass(frozen=True)
class ClaimRule:
    kind: str
    label: str
    event: str
    base: str
    offset_hours: float | None
    date: str | None  # MM-DD when the rule fixes the date
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Claim:
    """One claim found in a text: its rule, the words that made it, and its deadline's terms."""

    kind: str
    label: str
    phrase: str
    event: str
    pay_weight: int
    day_weight: int
    offset_s: int


def _rule(entry: dict[str, Any]) -> ClaimRule:
    kind = str(entry.get("kind", ""))
    if entry.get("event") not in EVENTS or entry.get("base") not in BASES:
        raise ClaimTableError(f"claims.yaml {kind}: event one of {EVENTS}, base one of {BASES}")
    patterns = tuple(re.compile(p) for p in entry.get("patterns") or ())
    if not patterns:
        raise ClaimTableError(f"claims.yaml {kind}: no patterns")
    hours = entry.get("offset_hours")
    offset = None if hours is None else float(hours)
    label, event, base = str(entry.get("label", kind)), entry["event"], entry["base"]
    return ClaimRule(kind, label, event, base, offset, entry.get("date"), patterns)


@cache
def claim_rules() -> tuple[ClaimRule, ...]:
    """The phrase table, in precedence order."""
    text = resources.files("lvyue.model").joinpath("claims.yaml").read_text("utf-8")
    return tuple(_rule(e) for e in yaml.safe_load(text)["claims"])


def _date_end(month: int, day: int, published: datetime) -> int | None:
    """The last second of ``month``-``day`` (Beijing) on or after the publication day."""
    local = to_beijing(published).date()
    for year in (local.year, local.year + 1):
        try:
            named = date(year, month, day)
        except ValueError:
            return None
        if named >= local:
            start = datetime(named.year, named.month, named.day, tzinfo=BEIJING)
            return int((start + timedelta(days=1)).timestamp()) - 1
    return None


def _claim(rule: ClaimRule, match: re.Match[str], published: datetime) -> Claim | None:
    groups = match.groupdict()
    hours = rule.offset_hours if groups.get("hours") is None else float(groups["hours"])
    offset = round((hours or 0.0) * 3600)
    if rule.base == "pay":
        return Claim(rule.kind, rule.label, match.group(0), rule.event, 1, 0, offset)
    if rule.base == "pay_day_end":
        return Claim(rule.kind, rule.label, match.group(0), rule.event, 0, 1, offset)
    month, day = (
        (groups["month"], groups["day"]) if groups.get("month") else (rule.date or "").split("-")
    )
    end = _date_end(int(month), int(day), published)
    if end is None:
        return None  # 2月30日: no such date, nothing checkable
    return Claim(rule.kind, rule.label, match.group(0), rule.event, 0, 0, end + offset)


def parse_claims(text: str, published: datetime) -> list[Claim]:
    """Every logistics claim in ``text`` (a promotion published at ``published``, aware), in
    the order they appear; overlapping phrases count once (the earlier rule wins)."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, Claim]] = []
    for rule in claim_rules():
        for pattern in rule.patterns:
            for match in pattern.finditer(text):
                span = match.span()
                if any(span[0] < end and start < span[1] for start, end in taken):
                    continue
                claim = _claim(rule, match, published)
                if claim is not None:
                    taken.append(span)
                    found.append((span[0], claim))
    return [c for _, c in sorted(found, key=lambda f: f[0])]


def end_of_pay_day(pay: N) -> N:
    """The last second of the Beijing day of ``pay`` (epoch seconds: int, numpy or Ibis)."""
    shifted: Any = pay
    return ((shifted + BEIJING_OFFSET_S) // DAY_S + 1) * DAY_S - BEIJING_OFFSET_S - 1  # type: ignore[no-any-return]


def deadline(pay: N, pay_weight: Any, day_weight: Any, offset_s: Any) -> N:
    """The latest instant (epoch s, inclusive) a claim allows for an order paid at ``pay``."""
    shifted: Any = pay
    return pay_weight * shifted + day_weight * end_of_pay_day(shifted) + offset_s  # type: ignore[no-any-return]
