"""Scan-text classifier (轨迹文本识别): sorting-centre arrival/departure and kinds from text.

Sorting centres (转运中心, 分拨中心, 集散中心 …) matter because DR-2 times pickup → first
sorting centre; an outlet (营业部/网点) or a parcel station (驿站) must not count as one.
The words live in ``scan_rules.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from lvyue.model import TrackingKind
from lvyue.tracking.statuses import status_kind


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class _Rules:
    hub_words: tuple[str, ...]
    outlet_words: tuple[str, ...]
    destination: re.Pattern[str]
    # (pattern with a named group "fac", kind when the facility is a hub)
    hub_patterns: tuple[tuple[re.Pattern[str], TrackingKind], ...]
    text_kinds: tuple[tuple[re.Pattern[str], TrackingKind], ...]


def _load() -> _Rules:
    text = resources.files("lvyue.tracking").joinpath("scan_rules.yaml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    facility_words = _alternation(doc["hub_words"] + doc["outlet_words"])
    name = r"[\u4e00-\u9fffA-Za-z0-9（）()·\-]"
    # A bracketed name, or a bare name running up to (and over) its last facility word.
    bracketed = r"【[^】]{1,40}】|\[[^\]]{1,40}\]"
    bare = rf"(?:{name}{{0,40}}?(?:{facility_words}))+"
    fac = rf"(?P<fac>{bracketed}|{bare})"  # right after a verb
    # Before a verb, a bare name starts where its run of name characters starts (this also
    # keeps the search from retrying at every character inside a run).
    lead = rf"(?P<fac>{bracketed}|(?<!{name}){bare})"
    gap = r"\s*[:：]?\s*"
    arrive, depart = TrackingKind.HUB_ARRIVAL, TrackingKind.HUB_DEPARTURE
    after_dep = _alternation(doc["departure_after"])
    patterns = (
        (rf"(?:{_alternation(doc['arrival_before'])}){gap}{fac}", arrive),
        (rf"(?:{_alternation(doc['departure_before'])}){gap}{fac}", depart),
        (rf"(?:{_alternation(doc['origin_before'])}){gap}{fac}\s*(?:{after_dep})", depart),
        (rf"{lead}\s*[,，]?\s*(?:{after_dep})", depart),
        (rf"{lead}\s*[,，]?\s*(?:{_alternation(doc['arrival_after'])})", arrive),
    )
    text_kinds = tuple(
        (re.compile(_alternation(item["patterns"])), TrackingKind(item["kind"]))
        for item in doc["text_kinds"]
    )
    return _Rules(
        hub_words=tuple(doc["hub_words"]),
        outlet_words=tuple(doc["outlet_words"]),
        destination=re.compile(rf"(?:{_alternation(doc['destination_phrases'])}){gap}{fac}"),
        hub_patterns=tuple((re.compile(p), kind) for p, kind in patterns),
        text_kinds=text_kinds,
    )


_RULES = _load()


def is_hub(facility: str) -> bool:
    """A sorting centre, judged by the last facility word in its name (网点 beats 中心)."""
    return _last_end(facility, _RULES.hub_words) > _last_end(facility, _RULES.outlet_words)


def _last_end(name: str, words: tuple[str, ...]) -> int:
    return max((name.rfind(w) + len(w) for w in words if w in name), default=-1)


@lru_cache(maxsize=1 << 16)  # carriers repeat the same few texts per facility
def hub_event(text: str) -> TrackingKind | None:
    """HUB_ARRIVAL / HUB_DEPARTURE when the scan says the parcel reached / left a sorting
    centre; None otherwise (an outlet, a 驿站, a destination named after 发往 …)."""
    if not any(word in text for word in _RULES.hub_words):
        return None  # no sorting centre named at all: skip the (slower) patterns
    masked = _RULES.destination.sub(lambda m: "→" * len(m.group(0)), text)
    found: list[tuple[int, int, TrackingKind]] = []  # (position, rule order, kind)
    for order, (pattern, kind) in enumerate(_RULES.hub_patterns):
        for match in pattern.finditer(masked):
            if is_hub(match.group("fac")):
                found.append((match.start("fac"), order, kind))
    return min(found)[2] if found else None


@lru_cache(maxsize=1 << 16)
def text_kind(text: str) -> TrackingKind:
    """The kind a scan text alone suggests; IN_TRANSIT when nothing more specific matches."""
    for pattern, kind in _RULES.text_kinds:
        if pattern.search(text):
            return kind
    return hub_event(text) or TrackingKind.IN_TRANSIT


def classify_scan(text: str, status: str | None = None) -> TrackingKind:
    """Canonical kind of one scan. A known ``status`` decides — a Kuaidi100 state/status
    code or name, or a carrier scan type (到件, 发件, 圆通 ARRIVAL …) — except that a transit
    status whose text names a sorting-centre arrival/departure becomes HUB_ARRIVAL /
    HUB_DEPARTURE; without a known status the text decides."""
    scan_type = _SCAN_TYPES.get(status.strip()) if status else None
    if scan_type is not None:
        kind, at_hub = scan_type
        return (hub_event(text) or at_hub) if at_hub and names_hub(text) else kind
    found = status_kind(status) if status else None
    if found is None:
        return text_kind(text)
    if found is TrackingKind.IN_TRANSIT:
        return hub_event(text) or found
    return found


def at_hub(text: str, status: str | None = None) -> bool:
    """Whether the parcel was at a sorting centre when this scan was made."""
    return hub_event(text) is not None


def names_hub(text: str) -> bool:
    """Whether the text names a sorting centre at all (【杭州转运中心】, 杭州转运中心 …)."""
    names = [m.group(1) or m.group(2) for m in _BRACKETED.finditer(text)] or [text]
    return any(is_hub(name) for name in names)


def _load_scan_types() -> dict[str, tuple[TrackingKind, TrackingKind | None]]:
    text = resources.files("lvyue.tracking").joinpath("scan_types.yaml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    table: dict[str, tuple[TrackingKind, TrackingKind | None]] = {}
    for name, item in doc["scan_types"].items():
        at_hub = TrackingKind(item["at_hub"]) if item.get("at_hub") else None
        table[str(name)] = (TrackingKind(item["kind"]), at_hub)
    return table


_SCAN_TYPES = _load_scan_types()
_BRACKETED = re.compile(r"【([^】]{1,40})】|\[([^\]]{1,40})\]")
