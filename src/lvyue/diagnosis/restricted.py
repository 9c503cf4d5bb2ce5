"""A merchant's restricted-sale areas (限售区域, LD-4): regions it chose not to sell to because
its carriers do not reach them, kept in the diagnosis state directory.

LD-4: reachability is queried "so the merchant can set restricted-sale areas". The list is
the merchant's own choice, made from reachability answers (each area names the carrier rule
that prompted it); this module only keeps it. One JSON file per merchant
(``restricted-areas/<sha256 of the id>.json``), written atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from lvyue.diagnosis.reachability import CoverageRule
from lvyue.model.files import write_bytes_atomically
from lvyue.model.time import format_instant

AREA_KEYS = ("province", "city", "district", "keyword")


def _path(directory: Path, merchant_id: str) -> Path:
    name = hashlib.sha256(merchant_id.encode()).hexdigest()[:32]
    return directory / "restricted-areas" / f"{name}.json"


def restricted_areas(directory: Path, merchant_id: str) -> list[dict[str, Any]]:
    """The merchant's restricted-sale areas, in the order they were set."""
    path = _path(directory, merchant_id)
    if not path.exists():
        return []
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    areas: list[dict[str, Any]] = data["areas"]
    return areas


def _key(area: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(area.get(k) or "") for k in AREA_KEYS)


def add_restricted(
    directory: Path, merchant_id: str, rules: Iterable[CoverageRule], at: datetime
) -> tuple[list[dict[str, Any]], int]:
    """Add each rule's region (once per region and keyword); returns the list and how many
    areas were new."""
    areas = restricted_areas(directory, merchant_id)
    seen = {_key(a) for a in areas}
    added = 0
    for rule in rules:
        row = rule.as_row()
        area = {k: row[k] for k in (*AREA_KEYS, "region_code")} | {
            "because": f"{rule.carrier}: {rule.reason}",
            "set_at": format_instant(at),
        }
        if _key(area) not in seen:
            seen.add(_key(area))
            areas.append(area)
            added += 1
    _save(directory, merchant_id, areas)
    return areas, added


def clear_restricted(directory: Path, merchant_id: str) -> None:
    _save(directory, merchant_id, [])


def _save(directory: Path, merchant_id: str, areas: list[dict[str, Any]]) -> None:
    body = {"merchant_id": merchant_id, "areas": areas}
    write_bytes_atomically(
        _path(directory, merchant_id), json.dumps(body, ensure_ascii=False, indent=1).encode()
    )
