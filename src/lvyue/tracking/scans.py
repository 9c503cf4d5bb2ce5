"""Scan-text classifier (轨迹文本识别): sorting-centre arrival/departure and kinds from text.

Sorting centres (转运中心, 分拨中心, 集散中心, 中转场, ZTO's 【广州中心】 …) matter because
DR-2/SF-7 time pickup → first sorting centre: a missed hub moves "first hub" later and can
make a real shipment look fake; an outlet (营业部/网点/…公司) or a parcel station (驿站, …店)
taken for one moves it earlier. The words live in ``scan_rules.yaml``; how well they do is
measured on two labelled corpora (``lvyue.tracking.recognition``).
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

_NAME = r"[\u4e00-\u9fffA-Za-z0-9（）()·\-]"
_BRACKETED = re.compile(r"【([^】]{1,40})】|\[([^\]]{1,40})\]")
# 【杭州市】, 【浙江省】: the city ZTO and Kuaidi100 put in front, not a facility.
_PLACE_ONLY = re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市|自治区|特别行政区)")


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class _Rules:
    hub_words: frozenset[str]
    facility_words: tuple[str, ...]  # hub and outlet words
    destination: re.Pattern[str]  # phrases naming where the parcel goes (masked first)
    onward: re.Pattern[str]  # the wider set, masked before finding where a scan was made
    bare_facility: re.Pattern[str]
    departing: re.Pattern[str]  # a scan at a hub that says the parcel is leaving it
    at_hub_phrase: re.Pattern[str]  # 在分拨中心…: the text itself places the scan at a hub
    # (pattern with a named group "fac", kind when the facility is a hub)
    hub_patterns: tuple[tuple[re.Pattern[str], TrackingKind], ...]
    text_kinds: tuple[tuple[re.Pattern[str], TrackingKind], ...]
    warehouse_in: re.Pattern[str]  # the text_kinds pattern of WAREHOUSE_IN


def _load() -> _Rules:
    text = resources.files("lvyue.tracking").joinpath("scan_rules.yaml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    facility_words = _alternation(doc["hub_words"] + doc["outlet_words"])
    # A bracketed name, or a bare name running up to (and over) its last facility word.
    bracketed = r"【[^】]{1,40}】|\[[^\]]{1,40}\]"
    bare = rf"(?:{_NAME}{{0,40}}?(?:{facility_words}))+"
    fac = rf"(?P<fac>{bracketed}|{bare})"  # right after a verb
    # Before a verb, a bare name starts where its run of name characters starts (this also
    # keeps the search from retrying at every character inside a run).
    lead = rf"(?P<fac>{bracketed}|(?<!{_NAME}){bare})"
    gap = r"\s*[:：]?\s*"
    done = r"\s*[,，]?\s*(?:已经|已)?\s*"  # 【X】已发出 / 【X】，已经到达 …
    arrive, depart = TrackingKind.HUB_ARRIVAL, TrackingKind.HUB_DEPARTURE
    after_dep = _alternation(doc["departure_after"])
    patterns = (
        (rf"(?:{_alternation(doc['arrival_before'])}){gap}{fac}", arrive),
        (rf"(?:{_alternation(doc['departure_before'])}){gap}{fac}", depart),
        (rf"(?:{_alternation(doc['origin_before'])}){gap}{fac}\s*(?:{after_dep})", depart),
        (rf"{lead}{done}(?:{after_dep})", depart),
        (rf"{lead}{done}(?:{_alternation(doc['arrival_after'])})", arrive),
    )
    text_kinds = tuple(
        (re.compile(_alternation(item["patterns"])), TrackingKind(item["kind"]))
        for item in doc["text_kinds"]
    )
    onward = doc["destination_phrases"] + doc["onward_phrases"]
    return _Rules(
        hub_words=frozenset(doc["hub_words"]),
        facility_words=tuple(doc["hub_words"] + doc["outlet_words"]),
        destination=re.compile(rf"(?:{_alternation(doc['destination_phrases'])}){gap}{fac}"),
        onward=re.compile(rf"(?:{_alternation(onward)}){gap}{fac}"),
        bare_facility=re.compile(rf"(?<!{_NAME}){bare}"),
        departing=re.compile(_alternation(doc["departing_words"])),
        at_hub_phrase=re.compile(_alternation(doc["at_hub_phrases"])),
        hub_patterns=tuple((re.compile(p), kind) for p, kind in patterns),
        text_kinds=text_kinds,
        warehouse_in=dict((k, p) for p, k in text_kinds)[TrackingKind.WAREHOUSE_IN],
    )


_RULES = _load()


@lru_cache(maxsize=1 << 14)
def is_hub(facility: str) -> bool:
    """A sorting centre, judged by the facility word that ends the name: the last one, and
    of those ending there the longest (广州转运中心公司 is a hub, 文新中心公司 and 民治中心店
    are outlets, 杭州转运中心西湖营业部 an outlet named after its centre). A name with no
    facility word (中通's outlet 【杭州西湖文三路】) is not a hub, even on a Kuaidi100 干线
    scan: Kuaidi100 gives 干线 to the outlet's departure towards the hub too."""
    name = facility.strip("【】[] ")
    ends = [(name.rfind(w) + len(w), len(w), w) for w in _RULES.facility_words if w in name]
    return bool(ends) and max(ends)[2] in _RULES.hub_words


@lru_cache(maxsize=1 << 16)  # carriers repeat the same few texts per facility
def hub_event(text: str) -> TrackingKind | None:
    """HUB_ARRIVAL / HUB_DEPARTURE when the scan says in words that the parcel reached / left
    a sorting centre; None otherwise (an outlet, a 驿站, a destination named after 发往 …)."""
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
def scan_site(text: str) -> str | None:
    """Where the scan was made: the first facility the text names that is not where the
    parcel goes next (下一站, 发往, 送往 …) and not the city in front (【杭州市】)."""
    masked = _RULES.onward.sub(lambda m: "→" * len(m.group(0)), text)
    for match in _BRACKETED.finditer(masked):
        name = match.group(1) or match.group(2)
        if _PLACE_ONLY.fullmatch(name) is None:
            return name
    bare = _RULES.bare_facility.search(masked)
    return bare.group(0) if bare else None


def _site_kind(text: str) -> TrackingKind | None:
    """A scan made at a sorting centre that says nothing else (称重扫描, 已出口开拆, 分拣
    完成 …): the parcel is there, so it has arrived, or is leaving when the text says so."""
    site = scan_site(text)
    if site is None or not (is_hub(site) or _RULES.at_hub_phrase.search(text)):
        return None
    after = text[text.find(site) + len(site) :]
    if _RULES.departing.search(after):
        return TrackingKind.HUB_DEPARTURE
    return TrackingKind.HUB_ARRIVAL


def _hub_kind(text: str) -> TrackingKind | None:
    return hub_event(text) or _site_kind(text)


def at_hub(text: str) -> bool:
    """Whether the parcel was at a sorting centre when this scan was made (arrived, sorted,
    loaded, left or held there); a hub named only as the next stop does not count."""
    return hub_event(text) is not None or _site_kind(text) is not None


@lru_cache(maxsize=1 << 16)
def text_kind(text: str) -> TrackingKind:
    """The kind a scan text alone suggests; IN_TRANSIT when nothing more specific matches.
    Explicit hub words outrank pickup words (【广州邮件处理中心】已收件 is an arrival), a
    bare scan at a hub does not (【杭州转运中心】已揽收 is a pickup)."""
    for pattern, kind in _RULES.text_kinds:
        if kind is TrackingKind.PICKUP:
            found = hub_event(text)
            if found is not None:
                return found
        if pattern.search(text):
            return kind
    return _site_kind(text) or TrackingKind.IN_TRANSIT


def classify_scan(text: str, status: str | None = None) -> TrackingKind:
    """Canonical kind of one scan. A known ``status`` decides — a Kuaidi100 state/status
    code or name, or a carrier scan type (到件, 发件, 圆通 ARRIVAL …) — except that a transit
    status (在途, 干线 …) or a 到件/发件 scan made at a sorting centre becomes HUB_ARRIVAL /
    HUB_DEPARTURE; without a known status the text decides. A status never makes a hub of a
    facility the text does not name as one: it rules out hub events (a 派件 or 签收 scan
    naming a centre is not one) and settles the other kinds."""
    scan_type = _SCAN_TYPES.get(status.strip()) if status else None
    if scan_type is not None:
        kind, at_hub_kind = scan_type
        if at_hub_kind is not None and at_hub(text):
            return hub_event(text) or at_hub_kind  # the type says arrival/departure
        return kind
    found = status_kind(status) if status else None
    if found is None:
        return text_kind(text)
    if found is TrackingKind.IN_TRANSIT:
        return warehouse_in(text) or _hub_kind(text) or found
    return found


def warehouse_in(text: str) -> TrackingKind | None:
    """WAREHOUSE_IN when the text records the overseas consolidation warehouse-in (集货入库,
    海外仓入库 …): Kuaidi100 carries it as a transit scan, so the text alone says it."""
    found = _RULES.warehouse_in.search(text)
    return TrackingKind.WAREHOUSE_IN if found else None


def _load_scan_types() -> dict[str, tuple[TrackingKind, TrackingKind | None]]:
    text = resources.files("lvyue.tracking").joinpath("scan_types.yaml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    table: dict[str, tuple[TrackingKind, TrackingKind | None]] = {}
    for name, item in doc["scan_types"].items():
        at_hub_kind = TrackingKind(item["at_hub"]) if item.get("at_hub") else None
        table[str(name)] = (TrackingKind(item["kind"]), at_hub_kind)
    return table


_SCAN_TYPES = _load_scan_types()
