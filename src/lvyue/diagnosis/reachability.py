"""Reachability (LD-4): each carrier's unreachable areas (不可达区域) with validity dates.

A coverage rule names a carrier and a region (province, optionally city and district, and
optionally a keyword for finer places such as an island town); it holds from ``valid_from``
to ``valid_to`` (Beijing dates, inclusive; open when empty). Regions are resolved to GB/T 2260
codes through lvyue.geo, so an unknown name is caught at import with its row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from lvyue.diagnosis.errors import CoverageError, DiagnosisError
from lvyue.geo import AddressError, City, Province, divisions, parse_address
from lvyue.tracking.carriers import UnknownCarrierError, carrier_by_name

COLUMNS = ("carrier", "province", "city", "district", "keyword", "valid_from", "valid_to", "reason")
EXPORT_COLUMNS = (
    "carrier",
    "province",
    "city",
    "district",
    "keyword",
    "region_code",
    "valid_from",
    "valid_to",
    "reason",
)


@dataclass(frozen=True)
class CoverageRule:
    carrier: str
    province: str
    city: str | None
    district: str | None
    keyword: str | None
    region_code: str  # code of the most specific region named
    valid_from: date
    valid_to: date | None
    reason: str

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def region(self) -> tuple[str, str | None, str | None]:
        return (self.province, self.city, self.district)

    def covers(self, province: str, city: str | None, district: str | None) -> bool:
        """True when the rule's region contains the given region (keyword aside)."""
        return (
            self.province == province
            and (self.city is None or self.city == city)
            and (self.district is None or self.district == district)
        )

    def as_row(self) -> dict[str, str]:
        return {
            "carrier": self.carrier,
            "province": self.province,
            "city": self.city or "",
            "district": self.district or "",
            "keyword": self.keyword or "",
            "region_code": self.region_code,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else "",
            "reason": self.reason,
        }


def _find_province(name: str) -> Province | None:
    for p in divisions():
        if p.name == name or (len(name) >= 2 and p.name.startswith(name)):
            return p
    return None


def _find_city(province: Province, name: str) -> City | None:
    for c in province.cities:
        if c.name == name or (len(name) >= 2 and c.name.startswith(name)):
            return c
    return None


def _resolve(row: dict[str, str]) -> tuple[str, str | None, str | None, str] | str:
    """Canonical names and region code, or the error text naming the part that failed."""
    province = _find_province(row["province"])
    if province is None:
        return f"unknown province {row['province']!r}"
    if not row["city"]:
        if row["district"]:
            return "district given without city"
        return (province.name, None, None, province.code)
    city = _find_city(province, row["city"])
    if city is None:
        return f"unknown city {row['city']!r} in {province.name}"
    if not row["district"]:
        return (province.name, city.name, None, city.code)
    district = next((d for d in city.districts if d.name == row["district"]), None)
    if district is None:
        return f"unknown district {row['district']!r} in {city.name}"
    return (province.name, city.name, district.name, district.code)


def _date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field} {text!r} is not YYYY-MM-DD") from None


def read_coverage(text: str, source: str = "coverage") -> list[CoverageRule]:
    """Parse a coverage CSV; every bad row is reported at once (row 1 = first data row)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CoverageError(f"{source}: missing columns {', '.join(missing)}")
    rules: list[CoverageRule] = []
    errors: list[tuple[int, str]] = []
    for number, raw in enumerate(reader, start=1):
        row = {k: (raw.get(k) or "").strip() for k in COLUMNS}
        resolved = _resolve(row) if row["province"] else "empty province"
        try:
            start = _date(row["valid_from"], "valid_from")
            end = _date(row["valid_to"], "valid_to")
        except ValueError as exc:
            errors.append((number, str(exc)))
            continue
        if not row["carrier"]:
            errors.append((number, "empty carrier"))
        elif isinstance(resolved, str):
            errors.append((number, resolved))
        elif start is None:
            errors.append((number, "empty valid_from"))
        elif end is not None and end < start:
            errors.append((number, "valid_to before valid_from"))
        else:
            prov, city, district, code = resolved
            rules.append(
                CoverageRule(
                    row["carrier"],
                    prov,
                    city,
                    district,
                    row["keyword"] or None,
                    code,
                    start,
                    end,
                    row["reason"],
                )
            )
    if errors:
        shown = "; ".join(f"row {n}: {e}" for n, e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise CoverageError(
            f"{source}: {len(errors)} bad rows: {shown}{more}", [n for n, _ in errors]
        )
    return rules


def load_coverage(path: Path | None = None) -> list[CoverageRule]:
    """The given coverage CSV, or the one shipped with the package."""
    if path is None:
        text = resources.files("lvyue.diagnosis.data").joinpath("coverage.csv").read_text("utf-8")
        return read_coverage(text, "coverage.csv")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CoverageError(f"{path}: {exc.strerror}") from None
    return read_coverage(text, str(path))


@dataclass(frozen=True)
class AddressVerdict:
    address: str
    province: str
    city: str
    district: str | None
    carrier: str
    reachable: bool
    rules: list[CoverageRule]


def carrier_codes(given: Iterable[str]) -> list[str]:
    """``--carrier a --carrier b`` and ``--carrier a,b`` alike, as Kuaidi100 codes; a name
    (中通, 顺丰速运) works; an unknown carrier is an error, never an empty answer."""
    codes: list[str] = []
    for part in (p.strip() for item in given for p in item.split(",")):
        if not part:
            continue
        try:
            code = carrier_by_name(part).code
        except UnknownCarrierError as exc:
            raise DiagnosisError(f"carrier: {exc}") from None  # the field, not a CLI option
        codes.extend([code] if code not in codes else [])
    return codes


def place_region(
    province: str | None, city: str | None, district: str | None
) -> tuple[str | None, str | None, str | None]:
    """Completes a region named without its province or city (``--city 深圳``,
    ``--district 南山区``) when exactly one place has that name; several are an error that
    lists them, never a silent pick and never an ignored option."""
    if not district and (province or not city):
        return province, city, district
    found = [
        (p.name, c.name, d)
        for p in divisions()
        if not province or p.name == province or p.name.startswith(province)
        for c in p.cities
        if c.mainland and (not city or c.name == city or c.name.startswith(city))
        for d in ([None] if not district else [x.name for x in c.districts if x.name == district])
    ]
    named = "".join(x for x in (province, city, district) if x)
    if not found:
        raise DiagnosisError(f"no region named {named}")
    if len(found) > 1:
        names = "、".join(f"{p}{c}{d or ''}" for p, c, d in found[:8])
        raise DiagnosisError(
            f"{named} is ambiguous ({len(found)} places: {names}); name its province or city"
        )
    return found[0]


def query_region(
    rules: Iterable[CoverageRule],
    carrier: str | Sequence[str] | None,
    on: date,
    province: str | None = None,
    city: str | None = None,
    district: str | None = None,
) -> list[CoverageRule]:
    """Rules in force on ``on`` that touch the region: inside it or containing it."""
    carriers = carrier_codes([carrier] if isinstance(carrier, str) else carrier or ())
    province, city, district = place_region(province, city, district)
    target = _resolve({"province": province or "", "city": city or "", "district": district or ""})
    if province and isinstance(target, str):
        raise DiagnosisError(target)
    out = []
    for r in rules:
        if (carriers and r.carrier not in carriers) or not r.valid_on(on):
            continue
        if province and not isinstance(target, str):
            p, c, d, _ = target
            inside = (
                r.province == p and (c is None or r.city == c) and (d is None or r.district == d)
            )
            if not (inside or r.covers(p, c, d)):
                continue
        out.append(r)
    return sorted(out, key=lambda r: (r.carrier, r.region_code, r.keyword or ""))


def query_address(
    rules: Iterable[CoverageRule], carrier: str, address: str, on: date
) -> AddressVerdict:
    """Is a full address reachable by the carrier on ``on``? Parse errors name the failed part."""
    carrier = carrier_codes([carrier])[0] if carrier.strip() else carrier
    try:
        parsed = parse_address(address)
    except AddressError as exc:
        raise DiagnosisError(f"address: {exc}") from None
    hits = [
        r
        for r in rules
        if r.carrier == carrier
        and r.valid_on(on)
        and r.covers(parsed.province, parsed.city, parsed.district)
        and (r.keyword is None or r.keyword in parsed.rest)
    ]
    return AddressVerdict(
        address, parsed.province, parsed.city, parsed.district, carrier, not hits, hits
    )


def restricted_list(
    rules: Sequence[CoverageRule], carriers: Sequence[str], on: date
) -> list[CoverageRule]:
    """The merchant's restricted-sale areas (限售区域): regions none of its carriers reach.

    A region is restricted when every carrier has a rule in force covering it; each is listed
    once, at its most specific level, through the rule of the first carrier.
    """
    carriers = carrier_codes(carriers)
    if not carriers:
        raise DiagnosisError("restricted list: name at least one carrier")
    live = [r for r in rules if r.valid_on(on) and r.carrier in carriers]
    out: dict[tuple[str, str | None, str | None, str | None], CoverageRule] = {}
    for r in live:
        blocked_by_all = all(
            any(
                o.carrier == c and o.covers(*r.region()) and (o.keyword in (None, r.keyword))
                for o in live
            )
            for c in carriers
        )
        if blocked_by_all:
            out.setdefault((*r.region(), r.keyword), r)
    return sorted(out.values(), key=lambda r: (r.region_code, r.keyword or ""))


def export(rules: Sequence[CoverageRule], path: Path) -> None:
    """Write rules as CSV or XLSX (by suffix), atomically."""
    from lvyue.diagnosis.export import export_rows

    export_rows([r.as_row() for r in rules], EXPORT_COLUMNS, path, "unreachable")
