"""The facts rows importers produce, and the field conversions they share."""

from __future__ import annotations

from lvyue.geo import AddressError, parse_address
from lvyue.importers.errors import RowError
from lvyue.model import InstantError, format_instant, from_epoch, parse_instant
from lvyue.model.rows import InspectionRow, OrderRow, optional_columns
from lvyue.tracking import UnknownCarrierError, carrier_by_name

# docs/formats.md `orders`: the required columns first (model.rows.OrderRow), then the
# optional ones we fill.
ORDER_COLUMNS = (
    *(n for n in OrderRow.model_fields if n not in optional_columns(OrderRow)),
    "created_time",
    "order_status",
    "product_id",
    "amount",
    "dest_province",
    "dest_city",
    "dest_district",
    "address",
    # extra columns (kept and ignored by readers that do not know them)
    "parent_order_id",
    "product_name",
    "quantity",
    "aftersale_status",
    "dest_district_code",
    "category_ids",
)
UNCATEGORISED = "未分类"  # category when no map names it: only general clauses apply
INSPECTION_COLUMNS = (*InspectionRow.model_fields, "order_id")  # and the order it was for


def instant_text(value: str, field: str) -> str:
    """A platform time (naive = Beijing) as ISO 8601 with +08:00; empty stays empty."""
    text = value.strip()
    if not text:
        return ""
    try:
        return format_instant(parse_instant(text))
    except InstantError as exc:
        raise RowError(field, str(exc)) from None


def epoch_text(value: object, field: str) -> str:
    """Unix seconds as ISO 8601 with +08:00; 0, null or empty mean "has not happened"."""
    if value in (None, "", 0, "0"):
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RowError(field, f"expected unix seconds, got {value!r}")
    try:
        seconds = int(value)
    except ValueError:
        raise RowError(field, f"expected unix seconds, got {value!r}") from None
    if not 946_684_800 <= seconds <= 4_102_444_800:  # 2000-01-01 .. 2100-01-01
        raise RowError(field, f"unix seconds out of range: {seconds}")
    return format_instant(from_epoch(seconds))


def carrier_code(name: str, field: str) -> str:
    """A carrier name or code from an export as its Kuaidi100 code; empty stays empty."""
    if not name.strip():
        return ""
    try:
        return carrier_by_name(name).code
    except UnknownCarrierError as exc:
        raise RowError(field, str(exc)) from None


def place(province: str, city: str, district: str, fields: tuple[str, str, str]) -> dict[str, str]:
    """Destination columns, names normalised against GB/T 2260 (``dest_district_code``)."""
    if not (province.strip() or city.strip() or district.strip()):
        return {}
    full = f"{province.strip()}{city.strip()}{district.strip()}"
    try:
        parsed = parse_address(full)
    except AddressError as exc:
        field = dict(zip(("province", "city", "district"), fields, strict=True))[exc.part]
        raise RowError(field, f"{exc.part} not recognised in {full!r}") from None
    found = (parsed.province, parsed.city, parsed.district or parsed.city)
    for given, name, field in zip((province, city, district), found, fields, strict=True):
        if given.strip() and not _same_place(given.strip(), name):
            raise RowError(field, f"{given.strip()!r} does not match {name} in {full!r}")
    return {
        "dest_province": parsed.province,
        "dest_city": parsed.city,
        "dest_district": parsed.district or "",
        "dest_district_code": parsed.district_code or parsed.city_code,
    }


def _same_place(given: str, canonical: str) -> bool:
    """广东 / 广东省, 新疆 / 新疆维吾尔自治区: the given name is the canonical or a short form."""
    return given == canonical or given.rstrip("省市") in canonical
