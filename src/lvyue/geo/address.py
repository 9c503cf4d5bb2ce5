"""Address parser (地址解析): a full or abbreviated Chinese address → province, city, district
with GB/T 2260 codes. Matching is cpca-new's Aho-Corasick matcher (广东深圳南山区 works)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

with warnings.catch_warnings():  # cpca-new loads its table with a deprecated importlib call
    warnings.simplefilter("ignore", DeprecationWarning)
    import cpca_new  # type: ignore[import-untyped]  # cpca-new ships no type hints

from lvyue.geo.context import area_code_city, postcode_province
from lvyue.geo.divisions import City, Province, division, divisions

_MUNICIPALITIES = ("11", "12", "31", "50")
_SPECIAL_SHORT = {  # autonomous regions are abbreviated to their place name
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "新疆维吾尔自治区": "新疆",
    "宁夏回族自治区": "宁夏",
}  # 直辖市: the city level repeats the province


class AddressError(ValueError):
    """An address we cannot place; the message says which part (province/city/district)."""

    def __init__(self, part: str, address: str, detail: str = "not found") -> None:
        super().__init__(f"{part}: {detail} in address {address!r}")
        self.part = part
        self.address = address


class AmbiguousAddressError(AddressError):
    """A district name several cities share (鼓楼区) with no province, city, postcode or area
    code to tell them apart: the candidates, never a silent pick."""

    def __init__(self, address: str, candidates: tuple[ParsedAddress, ...]) -> None:
        names = "、".join(_full_name(c) for c in candidates)
        super().__init__(
            "city",
            address,
            f"ambiguous: {len(candidates)} candidates ({names}); name the "
            "province or city, or give a postcode or landline area code",
        )
        self.candidates = candidates


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    province: str
    province_code: str
    city: str
    city_code: str
    district: str | None  # None for a city without districts (东莞市, 中山市, 儋州市 …)
    district_code: str | None
    rest: str  # what follows the district: street, building, room


def parse_address(
    text: str, *, phone: str | None = None, postcode: str | None = None
) -> ParsedAddress:
    """Parse one address; raises ``AddressError`` naming the part that failed, and
    ``AmbiguousAddressError`` (with the candidates) when only a shared district name places
    it. ``phone`` (a landline area code) and ``postcode`` — or ones written inside the
    address — narrow the candidates."""
    # cpca-new's public transform() wraps this one-address matcher in a pandas DataFrame,
    # which costs a pandas import and a frame per call; the version is pinned (==0.1.2).
    match: dict[str, Any] = cpca_new._get_one_addr(_expand_province(text), False, {})
    parsed = _next_district(_parsed(text, match["adcode"], match["地址"]))
    return disambiguate(text, parsed, phone=phone, postcode=postcode)


def parse_addresses(texts: Iterable[str]) -> list[ParsedAddress]:
    """Parse many addresses; raises ``AddressError`` on the first that fails."""
    return [parse_address(text) for text in texts]


def _expand_province(text: str) -> str:
    """吉林长春朝阳区 → 吉林省长春朝阳区: a leading province abbreviation that is also a city
    name (吉林) would otherwise be matched as the city."""
    stripped = text.lstrip()
    for full, short in _province_names().get(stripped[:2], ()):
        if stripped.startswith(short) and not stripped.startswith(full):
            following = stripped[len(short) : len(short) + 1]
            return stripped if following in ("省", "市") else full + stripped[len(short) :]
    return text


@cache
def _province_names() -> dict[str, tuple[tuple[str, str], ...]]:
    """(full name, abbreviation) of the provinces, by the first two characters."""
    names: dict[str, tuple[tuple[str, str], ...]] = {}
    for prov in divisions():
        short = _SPECIAL_SHORT.get(prov.name) or re.sub("(省|市|特别行政区|自治区)$", "", prov.name)
        names[short[:2]] = (*names.get(short[:2], ()), (prov.name, short))
    return names


def _next_district(parsed: ParsedAddress) -> ParsedAddress:
    """新疆阿勒泰布尔津县: cpca reads 阿勒泰 as 阿勒泰市 (a county of 阿勒泰地区) and leaves
    布尔津县 in the rest; a district of the same city opening the rest is the real one."""
    if not parsed.rest:
        return parsed
    city = division(parsed.city_code)
    if not isinstance(city, City) or city.direct:
        return parsed
    for district in city.districts:
        if district.code != parsed.district_code and parsed.rest.startswith(district.name):
            rest = parsed.rest[len(district.name) :].strip()
            return replace(parsed, district=district.name, district_code=district.code, rest=rest)
    return parsed


def _parsed(text: str, adcode: Any, rest: Any) -> ParsedAddress:
    if not isinstance(adcode, str) or not adcode:
        raise AddressError("province", text)
    province = division(adcode[:2] + "0000")
    assert isinstance(province, Province)
    city = _city_of(province, adcode)
    if city is None and province.code[:2] in _MUNICIPALITIES:
        raise AddressError("district", text, f"not found under {province.name}")
    if city is None:
        raise AddressError("city", text, f"not found under {province.name}")
    district = next((d for d in city.districts if d.code == adcode), None)
    if district is None and city.districts:
        raise AddressError("district", text, f"not found under {province.name}{city.name}")
    return ParsedAddress(
        province=province.name,
        province_code=province.code,
        city=city.name,
        city_code=city.code,
        district=district.name if district else None,
        district_code=district.code if district else None,
        rest=str(rest or "").strip(),
    )


def _city_of(province: Province, adcode: str) -> City | None:
    for city in province.cities:
        if city.code == adcode or (city.code == adcode[:4] + "00" and not city.direct):
            return city
    return None


def disambiguate(
    text: str, parsed: ParsedAddress, *, phone: str | None = None, postcode: str | None = None
) -> ParsedAddress:
    """cpca places a bare 鼓楼区 in the first city that has one; keep its answer only when the
    text names that city or province, or the district name is unique; otherwise narrow the
    same-named districts by context and raise ``AmbiguousAddressError`` if more than one is left."""
    if parsed.district is None:
        return parsed
    others = _same_named(parsed.district)
    if len(others) < 2:
        return parsed
    context = text.replace(parsed.district, " ")
    named = [c for c in others if _short(c.city) in context]
    if not named:
        named = [c for c in others if _short(c.province) in context]
    found = named or list(others)
    by_post = postcode_province(postcode) or postcode_province(text)
    if by_post and len(found) > 1:
        found = [c for c in found if c.province_code[:2] == by_post] or found
    by_area = area_code_city(phone) or area_code_city(text)
    if by_area and len(found) > 1:
        found = [c for c in found if c.city_code == by_area] or found
    if len(found) > 1:
        raise AmbiguousAddressError(text, tuple(replace(c, rest=parsed.rest) for c in found))
    return replace(found[0], rest=parsed.rest)


def _full_name(p: ParsedAddress) -> str:
    """北京市朝阳区, 江苏省南京市鼓楼区: the city level of a municipality is not repeated."""
    city = "" if p.city == p.province else p.city
    return f"{p.province}{city}{p.district or ''}"


@cache
def _same_named(district: str) -> tuple[ParsedAddress, ...]:
    """Every mainland district with this name, as a parse result without ``rest``."""
    return tuple(
        ParsedAddress(p.name, p.code, c.name, c.code, d.name, d.code, "")
        for p in divisions()
        for c in p.cities
        if c.mainland and not c.direct
        for d in c.districts
        if d.name == district
    )


def _short(name: str) -> str:
    """深圳市 → 深圳, 广东省 → 广东, 延边朝鲜族自治州 → 延边: how addresses abbreviate."""
    if name in _SPECIAL_SHORT:
        return _SPECIAL_SHORT[name]
    if name.endswith(("自治州", "地区", "盟")) or "自治" in name:
        return name[:2]
    return re.sub("(省|市|特别行政区)$", "", name)
