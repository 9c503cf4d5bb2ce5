"""The rulebook's data: announcements, their clauses, windows and scopes (all immutable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import format_beijing
from lvyue.rulebook.context import Clock, OrderContext
from lvyue.rulebook.values import Value, ValueKind


class SourceKind(StrEnum):
    SEED = "seed"  # the platform's own announcement text
    THIRD_PARTY_SUMMARY = "third_party summary"  # DR-*: numbers from public summaries
    OPERATOR_DEFAULT = "operator default"  # thresholds an operator chose
    OPERATOR_DATA = "operator data"  # lists the platform maintains (BTAS-designated categories)


class ClauseKind(StrEnum):
    PARAMETER = "parameter"  # sets a parameter
    OBLIGATION = "obligation"  # a duty the engine or a workflow enforces (e.g. BT-8)
    INFO = "info"  # recorded so it can be cited (e.g. SF-11)


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    kinds: tuple[ValueKind, ...]
    clock: Clock
    anchor: Clock | None
    meaning: str


@dataclass(frozen=True)
class Window:
    """Half-open ``[start, end)`` in aware UTC; None is unbounded on that side."""

    start: datetime | None = None
    end: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment < self.end
        )

    def intersect(self, other: Window) -> Window:
        starts = [s for s in (self.start, other.start) if s is not None]
        ends = [e for e in (self.end, other.end) if e is not None]
        return Window(max(starts) if starts else None, min(ends) if ends else None)

    @property
    def empty(self) -> bool:
        return self.start is not None and self.end is not None and self.start >= self.end

    def describe(self) -> str:
        """As announcements write it: the end shown inclusive (one second before ``end``)."""
        start = format_beijing(self.start) if self.start else "…"
        end = format_beijing(self.end - timedelta(seconds=1)) if self.end else "…"
        return f"{start} – {end}"


@dataclass(frozen=True)
class Scope:
    """Who a clause speaks to. None means every value of that dimension."""

    merchant_types: frozenset[MerchantType] | None = None
    categories: tuple[str, ...] | None = None  # category subtrees, paths joined by ">"
    ship_modes: frozenset[ShipMode] | None = None
    flags: tuple[tuple[str, bool], ...] = ()  # (flag, required value)

    def mismatch(self, ctx: OrderContext) -> str | None:
        """Why the order is out of scope, or None when it is in scope."""
        if self.merchant_types is not None and ctx.merchant_type not in self.merchant_types:
            return f"merchant type {ctx.merchant_type.value}"
        if self.categories is not None and not any(
            in_subtree(ctx.category, c) for c in self.categories
        ):
            return f"category {ctx.category or '(none)'}"
        if self.ship_modes is not None and ctx.ship_mode not in self.ship_modes:
            return f"ship mode {ctx.ship_mode.value}"
        for flag, wanted in self.flags:
            if (flag in ctx.flags) != wanted:
                return f"flag {flag} is {str(not wanted).lower()}"
        return None

    def describe(self) -> str:
        parts = []
        if self.merchant_types is not None:
            parts.append("merchant " + "|".join(sorted(m.value for m in self.merchant_types)))
        if self.categories is not None:
            parts.append("category " + "|".join(self.categories))
        if self.ship_modes is not None:
            parts.append("mode " + "|".join(sorted(m.value for m in self.ship_modes)))
        parts.extend(f"{f}={str(v).lower()}" for f, v in self.flags)
        return ", ".join(parts) or "all orders"


def in_subtree(category: str, prefix: str) -> bool:
    return category == prefix or category.startswith(prefix + ">")


@dataclass(frozen=True)
class Clause:
    """One version of one clause. A revised announcement yields one Clause per version."""

    id: str
    announcement: str
    kind: ClauseKind
    parameter: str | None
    value: Value | None
    clock: Clock
    window: Window  # as the announcement writes it
    valid: Window  # when this version governs (BT-15), on the same clock
    scope: Scope
    exception_to: tuple[str, ...]
    source: str
    note: str = ""
    revision: str | None = None  # the revision label, None for the original text
    file: str = ""
    # "the baseline applies": where this clause applies, these clauses drop out and the
    # clauses left decide; it gives no value of its own (VF-2 "与日常一致" cancels NY-1)
    cancels: tuple[str, ...] = ()
    # the source sentence normalised to readable simplified Chinese (the BT and VF seeds are
    # garbled: traditional characters, pinyin artefacts, synonyms); ``source`` stays as found
    text: str = ""

    @property
    def readable(self) -> str:
        """What people read: the normalised text, else the source as found."""
        return self.text or self.source

    @property
    def effective(self) -> Window:
        return self.window.intersect(self.valid)


@dataclass(frozen=True)
class Revision:
    label: str
    at: datetime


@dataclass(frozen=True)
class Announcement:
    id: str
    title: str
    source_kind: SourceKind
    source_ref: str
    published: date | None
    effective: date | None
    partial: bool
    file: str
    revisions: tuple[Revision, ...] = ()
    note: str = ""
    clause_ids: tuple[str, ...] = field(default=())
