"""Kuaidi100 states and status codes ↔ the canonical vocabulary (Karrio-style status units).

The table is data (``kuaidi100_statuses.yaml``); this module only looks it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from lvyue.model import TrackingKind


@dataclass(frozen=True, slots=True)
class Status:
    code: str  # basic state ("0".."14") or advanced statusCode ("101", "1002", ...)
    name: str  # 在途, 干线, 本人签收 ...
    kind: TrackingKind
    state: str  # the basic state this code belongs to (itself for a basic state)


def _load() -> tuple[dict[str, Status], dict[TrackingKind, Status]]:
    text = resources.files("lvyue.tracking").joinpath("kuaidi100_statuses.yaml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    table: dict[str, Status] = {}
    for item in doc["states"]:
        code = str(item["code"])
        table[code] = Status(code, item["name"], TrackingKind(item["kind"]), code)
    for item in doc["statuses"]:
        code = str(item["code"])
        table[code] = Status(code, item["name"], TrackingKind(item["kind"]), str(item["state"]))
    encode = {TrackingKind(kind): table[str(code)] for kind, code in doc["encode"].items()}
    missing = set(TrackingKind) - set(encode)
    if missing:
        raise ValueError(f"kuaidi100_statuses.yaml: no encoding for {sorted(missing)}")
    return table, encode


STATUSES, _ENCODE = _load()
_BY_NAME = {s.name: s for s in STATUSES.values()}


def lookup_status(status: str) -> Status | None:
    """A Kuaidi100 state/status code (``"1002"``) or name (``"干线"``), or None if unknown."""
    key = status.strip()
    return STATUSES.get(key) or _BY_NAME.get(key)


def status_kind(status: str) -> TrackingKind | None:
    found = lookup_status(status)
    return found.kind if found else None


def status_for(kind: TrackingKind) -> Status:
    """What the encoder writes for a canonical kind."""
    return _ENCODE[kind]
