"""Carrier registry (快递公司): Kuaidi100 codes, Chinese names and the names exports use.

The registry is data: ``carriers.yaml`` in this package, plus an optional extra file named by
``LVYUE_CARRIERS_FILE`` (same shape) for carriers we do not ship.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class UnknownCarrierError(KeyError):
    """A carrier code or name the registry does not know."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown carrier"


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str  # Kuaidi100 company code (com)
    name_zh: str  # e.g. 中通快递
    short_zh: str  # e.g. 中通, as scan texts and people say it
    aliases: tuple[str, ...] = ()
    waybill_pattern: str = ""  # the usual shape; documentation and simulation only
    group: str = "express"  # express | postal | freight | cross_border | instant

    @property
    def label(self) -> str:
        """What a person reads: the Chinese name (顺丰速运, 中通快递)."""
        return self.name_zh

    def looks_like_waybill(self, waybill: str) -> bool:
        return (
            bool(self.waybill_pattern) and re.fullmatch(self.waybill_pattern, waybill) is not None
        )


def load_carriers(*extra_files: Path) -> dict[str, Carrier]:
    """The packaged registry, extended (or overridden by code) by ``extra_files``."""
    text = resources.files("lvyue.tracking").joinpath("carriers.yaml").read_text("utf-8")
    registry = _parse(yaml.safe_load(text), "carriers.yaml")
    for path in extra_files:
        registry.update(_parse(yaml.safe_load(path.read_text("utf-8")), str(path)))
    _names(registry)  # refuses a name that two carriers claim
    return registry


def _parse(document: Any, source: str) -> dict[str, Carrier]:
    if not isinstance(document, dict) or not isinstance(document.get("carriers"), list):
        raise ValueError(f"{source}: expected a mapping with a 'carriers' list")
    registry: dict[str, Carrier] = {}
    for index, item in enumerate(document["carriers"]):
        if not isinstance(item, dict) or not item.get("code") or not item.get("name_zh"):
            raise ValueError(f"{source}: carriers[{index}] needs 'code' and 'name_zh'")
        registry[str(item["code"])] = Carrier(
            code=str(item["code"]),
            name_zh=str(item["name_zh"]),
            short_zh=str(item.get("short_zh") or item["name_zh"]),
            aliases=tuple(str(a) for a in item.get("aliases") or ()),
            waybill_pattern=str(item.get("waybill_pattern") or ""),
            group=str(item.get("group") or "express"),
        )
    return registry


def name_key(name: str) -> str:
    """How names are compared: NFKC (full-width ＥＭＳ, （）), case-folded, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def _names(registry: Mapping[str, Carrier]) -> dict[str, str]:
    """Every code, name and alias (as ``name_key``) -> code; a name two carriers claim is an
    error, since an export row naming it could belong to either."""
    names: dict[str, str] = {}
    for c in registry.values():
        for name in (c.code, c.name_zh, c.short_zh, *c.aliases):
            key = name_key(name)
            owner = names.setdefault(key, c.code)
            if owner != c.code:
                raise ValueError(f"carrier name {name!r} belongs to both {owner} and {c.code}")
    return names


def _extra_files() -> tuple[Path, ...]:
    extra = os.environ.get("LVYUE_CARRIERS_FILE")
    return (Path(extra),) if extra else ()


CARRIERS: Mapping[str, Carrier] = load_carriers(*_extra_files())

_BY_NAME = _names(CARRIERS)


def carrier(code: str) -> Carrier:
    """The carrier with this Kuaidi100 code; raises ``UnknownCarrierError``."""
    try:
        return CARRIERS[code]
    except KeyError:
        raise UnknownCarrierError(f"unknown carrier code {code!r}") from None


def carrier_by_name(name: str) -> Carrier:
    """The carrier a Chinese name, alias or code designates (``中通快递``, ``顺丰``, ``jd``)."""
    code = _BY_NAME.get(name_key(name))
    if code is None:
        raise UnknownCarrierError(
            f"unknown carrier {name.strip()!r}: not a Kuaidi100 code or a carrier name or alias"
            f" in the registry of {len(CARRIERS)} carriers (add it in a file named by"
            " LVYUE_CARRIERS_FILE)"
        )
    return CARRIERS[code]


def carrier_label(code: str) -> str:
    """The Chinese name for a Kuaidi100 code (``shunfeng`` -> 顺丰速运); an unknown code is
    shown as it is, since output must never hide what the data says."""
    found = CARRIERS.get(code)
    return found.label if found else code
