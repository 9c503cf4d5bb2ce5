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

from lvyue.geo import City
from lvyue.geo import cities as geo_cities

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
    code: tuple[str, ...]  # GB/T 2260
    districts: tuple[tuple[str, ...], ...]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    population: npt.NDArray[np.float64]
    origin_weight: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.city)

    def short(self, i: int) -> str:
        """杭州市 -> 杭州, 阿勒泰地区 -> 阿勒泰 (outlet ids and facility names use it)."""
        name = self.city[i]
        for suffix in ("市", "地区", "盟"):
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                return name[: -len(suffix)]
        return name


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
    """Prefecture-level cities from ``lvyue.geo.cities()`` (GB/T 2260), with coordinates
    (the province capital's from ``cities.csv`` where the dataset has none), a population
    weight for destinations and a weight for where merchants sit. ``cities.csv`` gives both
    for the main e-commerce cities; the rest of a province shares what is left of
    ``provinces.csv``'s population."""
    listed = {r["city"]: r for r in csv.DictReader(_text("cities.csv").splitlines())}
    capitals: dict[str, dict[str, str]] = {}
    for row in listed.values():
        capitals.setdefault(row["province"], row)
    people = {
        r["province"]: float(r["population"])
        for r in csv.DictReader(_text("provinces.csv").splitlines())
    }
    seen: set[str] = set()
    rows = []
    for c in geo_cities():
        if c.name not in seen and c.province in people:  # 重庆市 appears twice (城区, 县)
            seen.add(c.name)
            rows.append(c)
    rest: dict[str, float] = dict(people)
    others: dict[str, int] = {}
    for c in rows:
        if c.name in listed:
            rest[c.province] -= float(listed[c.name]["population"])
        else:
            others[c.province] = others.get(c.province, 0) + 1

    def population(c: City) -> float:
        if c.name in listed:
            return float(listed[c.name]["population"])
        return max(rest[c.province], 0.5) / float(others[c.province])

    def coordinate(c: City, field: str, fallback: str) -> float:
        value = getattr(c, field)
        return float(value) if value is not None else float(capitals[c.province][fallback])

    return Cities(
        province=tuple(c.province for c in rows),
        city=tuple(c.name for c in rows),
        code=tuple(c.code for c in rows),
        districts=tuple(tuple(d.name for d in c.districts) or (c.name,) for c in rows),
        lat=np.array([coordinate(c, "latitude", "lat") for c in rows]),
        lon=np.array([coordinate(c, "longitude", "lon") for c in rows]),
        population=np.array([population(c) for c in rows]),
        origin_weight=np.array(
            [float(listed[c.name]["origin_weight"]) if c.name in listed else 0.02 for c in rows]
        ),
    )
