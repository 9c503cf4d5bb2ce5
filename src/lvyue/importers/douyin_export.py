"""Import of the 抖店 order export (订单导出 CSV, Chinese headers) into facts ``orders``.

The export says nothing about the merchant type, the category path or the ship mode; they
come from ``ExportOptions`` (CLI: ``--merchant-id``, ``--merchant-type``,
``--category-map``). See docs/tracking.md for the column mapping.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lvyue.importers.errors import FileRejected, RowError
from lvyue.importers.records import UNCATEGORISED, carrier_code, instant_text, place
from lvyue.model import MerchantType, ShipMode

REQUIRED_HEADERS = ("子订单编号", "支付完成时间")
# export header → facts column, for times
_TIMES = {
    "订单提交时间": "created_time",
    "支付完成时间": "pay_time",
    "承诺发货时间": "promised_ship_time",
    "发货时间": "ship_time",
    "订单完成时间": "confirmed_receipt_time",  # 完成 = receipt confirmed (or auto-confirmed)
}
_TEXTS = {
    "主订单编号": "parent_order_id",
    "选购商品": "product_name",
    "商品ID": "product_id",
    "订单状态": "order_status",
    "售后状态": "aftersale_status",
    "快递单号": "waybill",
}
_EXTRA = "(extra fields)"
_EXCEL_NUMBER = re.compile(r"\d(\.\d+)?E\+\d+", re.IGNORECASE)  # 6.92184E+18: digits lost
_CARRIER_HEADERS = ("快递公司", "物流公司", "承运商")
_AMOUNT_HEADERS = ("订单应付金额", "商品金额", "实付金额")


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    category: str  # full path, levels joined by ">"
    ship_mode: ShipMode | None = None


@dataclass(frozen=True)
class ExportOptions:
    """What the export lacks. Defaults: merchant ``unknown``, ``domestic``, spot orders,
    category ``未分类`` (only general clauses apply) unless ``categories`` maps the 商品ID."""

    merchant_id: str = "unknown"
    merchant_type: MerchantType = MerchantType.DOMESTIC
    categories: Mapping[str, CategoryEntry] = field(default_factory=dict)
    default_ship_mode: ShipMode = ShipMode.SPOT
    default_category: str = UNCATEGORISED


def read_category_map(path: Path) -> dict[str, CategoryEntry]:
    """CSV ``product_id,category[,ship_mode]`` (also 商品ID/类目/发货模式) → entries by product."""
    rows = list(_read_csv(path, (), "a category map"))
    entries: dict[str, CategoryEntry] = {}
    for number, row in rows:
        product = _first(row, "product_id", "商品ID", "category_id")
        category = _first(row, "category", "类目")
        if not product or not category:
            raise RowError("product_id/category", "missing", source=path.name, row=number)
        mode_text = _first(row, "ship_mode", "发货模式")
        try:
            mode = ShipMode(mode_text) if mode_text else None
        except ValueError:
            raise RowError("ship_mode", f"unknown ship mode {mode_text!r}", source=path.name,
                           row=number) from None  # fmt: skip
        entries[product] = CategoryEntry(category, mode)
    return entries


def read_export(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, raw row) for every data row; the header is checked first."""
    return _read_csv(path, REQUIRED_HEADERS, "a 抖店 order export")


def order_from_export(raw: Mapping[str, str], options: ExportOptions) -> dict[str, str]:
    """One export row as a facts ``orders`` row; raises ``RowError`` naming the header."""
    row = {k: _clean(v) for k, v in raw.items()}
    if row.get(_EXTRA):
        raise RowError("row", f"more fields than the header has: {row[_EXTRA]!r}")
    order_id = row.get("子订单编号", "")
    if not order_id:
        raise RowError("子订单编号", "missing")
    for header in ("子订单编号", "主订单编号", "快递单号"):
        if _EXCEL_NUMBER.fullmatch(row.get(header, "")):
            raise RowError(header, f"{row[header]!r} was mangled by Excel; use the original export")
    record = {column: row.get(header, "") for header, column in _TEXTS.items()}
    record.update({c: instant_text(row.get(h, ""), h) for h, c in _TIMES.items()})
    record["order_id"] = order_id
    if not record["pay_time"]:  # an unpaid order owes no fulfilment (facts need pay_time)
        raise RowError("支付完成时间", "missing: an unpaid order has no fulfilment to check")
    record["quantity"] = _quantity(row.get("商品数量", ""))
    carrier_header = next((h for h in _CARRIER_HEADERS if row.get(h)), "快递公司")
    record["carrier"] = carrier_code(row.get(carrier_header, ""), carrier_header)
    if record["waybill"] and not record["carrier"]:
        raise RowError(carrier_header, "missing for a row with a 快递单号")
    record["amount"] = _amount(row)
    record.update(
        place(row.get("省", ""), row.get("市", ""), row.get("区", ""), ("省", "市", "区"))
    )
    record["address"] = "".join(row.get(h, "") for h in ("省", "市", "区", "街道", "详细地址"))
    entry = options.categories.get(record["product_id"])
    record["merchant_id"] = options.merchant_id
    record["merchant_type"] = options.merchant_type.value
    record["category"] = entry.category if entry else options.default_category
    mode = entry.ship_mode if entry and entry.ship_mode else options.default_ship_mode
    record["ship_mode"] = mode.value
    record["delayed_shipping"] = "false"
    return record


def _quantity(text: str) -> str:
    if not text:
        return ""
    if not text.isdigit() or int(text) < 1:
        raise RowError("商品数量", f"not a positive whole number: {text!r}")
    return text


def _amount(row: Mapping[str, str]) -> str:
    header = next((h for h in _AMOUNT_HEADERS if row.get(h)), None)
    if header is None:
        return ""
    text = row[header].replace(",", "").lstrip("¥￥")
    try:
        value = float(text)
    except ValueError:
        raise RowError(header, f"not an amount: {row[header]!r}") from None
    return f"{value:.2f}"


def _clean(value: str | None) -> str:
    # Exports write long ids as ="123" or with a leading tab/quote so Excel keeps the digits.
    text = (value or "").strip().strip("\t")
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text.lstrip("'").strip()


def _first(row: Mapping[str, str], *names: str) -> str:
    return next((row[n].strip() for n in names if row.get(n, "").strip()), "")


def _read_csv(
    path: Path, required: tuple[str, ...], what: str
) -> Iterator[tuple[int, dict[str, str]]]:
    text = decode_text(path.read_bytes(), path.name)
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA)
    if not reader.fieldnames:
        raise FileRejected(f"{path.name}: empty file")
    reader.fieldnames = [h.strip() for h in reader.fieldnames]
    missing = [h for h in required if h not in reader.fieldnames]
    if missing:
        raise FileRejected(f"{path.name}: not {what} (no column {missing[0]})")
    for number, row in enumerate(reader, start=1):
        extra = row.pop(_EXTRA, None)
        clean = {k: v or "" for k, v in row.items()}
        if extra:
            clean[_EXTRA] = ",".join(str(x) for x in extra)
        yield number, clean


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM); GBK/GB18030 when Excel re-saved the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRejected(f"{name}: neither UTF-8 nor GBK text; save it as CSV UTF-8") from None
