"""The simulator's static data (cities, carriers, industries), loaded from ``sim/data/``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

KINDS_WITH_TEXT = (
    "pickup",
    "hub_arrival",
    "hub_departure",
    "out_for_delivery",
    "signed",
    "exception",
    "returned",
)
FIELDS = ("{city}", "{place}", "{next}")


@dataclass(frozen=True)
class Template:
    """A scan text split around its fields: lit[0] city lit[1] place lit[2] next lit[3]."""

    literals: tuple[str, str, str, str]
    uses: tuple[bool, bool, bool]


@dataclass(frozen=True)
class CarrierProfile:
    code: str
    share: float
    transit: float  # multiplier on the lane standard
    pickup: float  # multiplier on the pickup delay
    exception: float  # base probability of an exception scan
    hub_arrival: bool  # scans the arrival at the first sorting centre, not only the departure
    outlet_word: str
    hub_word: str
    waybill_prefix: str
    waybill_digits: int
    templates: dict[str, tuple[Template, ...]]


@dataclass(frozen=True)
class Industry:
    name: str
    share: float
    types: tuple[float, float, float]  # domestic, cross_border, instant_retail
    categories: tuple[str, ...]
    amount: float
    btas: bool  # BT-1: second-hand goods needing BTAS inspection
    refund: float
    complaint: float
    conversion: float


@dataclass(frozen=True)
class Cities:
    province: tuple[str, ...]
    city: tuple[str, ...]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    population: npt.NDArray[np.float64]
    origin_weight: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.city)

    def short(self, i: int) -> str:
        """杭州市 -> 杭州 (outlet ids and facility names use the short form)."""
        name = self.city[i]
        return name[:-1] if name.endswith("市") and len(name) > 2 else name


def _text(name: str) -> str:
    return resources.files("lvyue.sim").joinpath("data", name).read_text(encoding="utf-8")


def split_template(template: str) -> Template:
    """Split a scan template around {city}, {place}, {next} (which must come in that order)."""
    literals: list[str] = []
    uses: list[bool] = []
    rest = template
    for field in FIELDS:
        if field in rest:
            before, rest = rest.split(field, 1)
            literals.append(before)
            uses.append(True)
        else:
            literals.append("")
            uses.append(False)
    if any(field in rest for field in FIELDS):
        raise ValueError(f"scan template fields out of order: {template!r}")
    literals.append(rest)
    return Template(
        (literals[0], literals[1], literals[2], literals[3]), (uses[0], uses[1], uses[2])
    )


def _carrier(code: str, raw: dict[str, Any]) -> CarrierProfile:
    templates = {
        kind: tuple(split_template(t) for t in raw["templates"].get(kind, ()))
        for kind in KINDS_WITH_TEXT
    }
    return CarrierProfile(
        code=code,
        share=float(raw["share"]),
        transit=float(raw["transit"]),
        pickup=float(raw["pickup"]),
        exception=float(raw["exception"]),
        hub_arrival=bool(raw["hub_arrival"]),
        outlet_word=str(raw["outlet_word"]),
        hub_word=str(raw["hub_word"]),
        waybill_prefix=str(raw["waybill"]["prefix"]),
        waybill_digits=int(raw["waybill"]["digits"]),
        templates=templates,
    )


@cache
def carriers() -> tuple[CarrierProfile, ...]:
    document = yaml.safe_load(_text("carriers.yaml"))
    return tuple(_carrier(code, raw) for code, raw in document["carriers"].items())


@cache
def industries() -> tuple[Industry, ...]:
    document = yaml.safe_load(_text("industries.yaml"))
    return tuple(
        Industry(
            name=name,
            share=float(raw["share"]),
            types=(float(raw["types"][0]), float(raw["types"][1]), float(raw["types"][2])),
            categories=tuple(raw["categories"]),
            amount=float(raw["amount"]),
            btas=bool(raw["btas"]),
            refund=float(raw["refund"]),
            complaint=float(raw["complaint"]),
            conversion=float(raw["conversion"]),
        )
        for name, raw in document["industries"].items()
    )


@cache
def cities() -> Cities:
    """Origin and destination cities with approximate coordinates (province capitals and the
    main e-commerce cities), population (millions) and a weight for where merchants sit."""
    rows = list(csv.DictReader(_text("cities.csv").splitlines()))
    return Cities(
        province=tuple(r["province"] for r in rows),
        city=tuple(r["city"] for r in rows),
        lat=np.array([float(r["lat"]) for r in rows]),
        lon=np.array([float(r["lon"]) for r in rows]),
        population=np.array([float(r["population"]) for r in rows]),
        origin_weight=np.array([float(r["origin_weight"]) for r in rows]),
    )
