"""Import of open-platform order detail JSON (抖店开放平台 order.orderDetail / searchList)
into facts ``orders`` (one row per sku order) and ``inspections`` (BTAS quality checks).

Accepted shapes: ``{"data": {"shop_order_detail": {...}}}``, ``{"data": {"shop_order_list":
[...]}}``, a bare shop order object, or a list of them. Times are unix seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lvyue.importers.errors import FileRejected, RowError
from lvyue.importers.records import UNCATEGORISED, carrier_code, epoch_text, place
from lvyue.model import InspectionResult, MerchantType, ShipMode
from lvyue.tracking import CARRIERS

# pre_sale_type → ship mode (0 现货 / 1 全款预售 / 2 阶梯发货)
_PRE_SALE = {0: ShipMode.SPOT, 1: ShipMode.PRESALE, 2: ShipMode.STEP}
# check_result_code → result; WATI_CHECT (sic: the platform's spelling) is still waiting.
_CHECK = {"CHECK_PASS": InspectionResult.PASS, "CHECK_FAIL": InspectionResult.FAIL}
_CHECK_PENDING = "WATI_CHECT"
_CIDS = ("first_cid", "second_cid", "third_cid", "fourth_cid")


@dataclass(frozen=True)
class OpenPlatformOptions:
    """Defaults for what a detail may lack; ``categories`` maps a product id or leaf
    category id to the full category path."""

    merchant_id: str = ""  # used when the order has no shop_id
    merchant_type: MerchantType = MerchantType.DOMESTIC
    categories: Mapping[str, str] | None = None
    default_category: str = UNCATEGORISED


@dataclass(frozen=True, slots=True)
class ImportedOrder:
    orders: list[dict[str, str]]
    inspections: list[dict[str, str]]


def read_orders(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based position, shop order object) for each order in a saved JSON file."""
    try:
        document = json.loads(path.read_text("utf-8-sig"))
    except UnicodeDecodeError:
        raise FileRejected(f"{path.name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(f"{path.name}: not JSON ({exc.msg}, line {exc.lineno})") from None
    yield from enumerate(_unwrap(document, path.name), start=1)


def _unwrap(document: Any, name: str) -> list[Any]:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise FileRejected(f"{name}: expected a JSON object or list")
    code = document.get("code")
    if code is not None and str(code) != "10000":  # 10000 is the platform's success
        raise FileRejected(f"{name}: the platform answered code {code}: {document.get('msg')}")
    data = document.get("data", document)
    if isinstance(data, dict) and "shop_order_detail" in data:
        return [data["shop_order_detail"]]
    if isinstance(data, dict) and "shop_order_list" in data:
        listed = data["shop_order_list"]
        if not isinstance(listed, list):
            raise FileRejected(f"{name}: data.shop_order_list is not a list")
        return listed
    if isinstance(data, dict) and "order_id" in data:
        return [data]
    raise FileRejected(f"{name}: no shop_order_detail, shop_order_list or order_id found")


def facts_from_order(order: Any, options: OpenPlatformOptions) -> ImportedOrder:
    """One shop order as facts rows; raises ``RowError`` naming the JSON field."""
    if not isinstance(order, dict):
        raise RowError("order", "expected an object")
    shop_order_id = _id(order, "order_id", "order_id")
    merchant = str(order.get("shop_id") or options.merchant_id or "")
    if not merchant:
        raise RowError("shop_id", "missing (or pass a merchant id)")
    skus = order.get("sku_order_list")
    if not isinstance(skus, list) or not skus:
        raise RowError("sku_order_list", "missing or empty")
    common = {
        "parent_order_id": shop_order_id,
        "merchant_id": merchant,
        "merchant_type": options.merchant_type.value,
        "order_status": str(order.get("order_status", "")),
        "created_time": epoch_text(order.get("create_time"), "create_time"),
        "pay_time": _paid(order.get("pay_time")),
        "confirmed_receipt_time": epoch_text(order.get("finish_time"), "finish_time"),
        "delayed_shipping": "false",
        **_destination(order.get("post_addr")),
    }
    logistics = _logistics(order.get("logistics_info"))
    orders: list[dict[str, str]] = []
    inspections: list[dict[str, str]] = []
    for index, sku in enumerate(skus):
        where = f"sku_order_list[{index}]"
        row, inspection = _sku_facts(sku, where, order, common, logistics, options)
        orders.append(row)
        if inspection:
            inspections.append(inspection)
    return ImportedOrder(orders, inspections)


def _sku_facts(
    sku: Any,
    where: str,
    order: Mapping[str, Any],
    common: Mapping[str, str],
    logistics: list[tuple[str, str, str, set[str]]],
    options: OpenPlatformOptions,
) -> tuple[dict[str, str], dict[str, str] | None]:
    if not isinstance(sku, dict):
        raise RowError(where, "expected an object")
    sku_id = _id(sku, "order_id", f"{where}.order_id")
    mode_value = sku.get("pre_sale_type", 0)
    if isinstance(mode_value, str) and mode_value.isdigit():
        mode_value = int(mode_value)
    if mode_value not in _PRE_SALE:
        raise RowError(f"{where}.pre_sale_type", f"expected 0, 1 or 2, got {mode_value!r}")
    mode = _PRE_SALE[mode_value]
    # A sku order's own time wins, even 0 (its part of the order has not shipped yet).
    exp_ship = sku["exp_ship_time"] if "exp_ship_time" in sku else order.get("exp_ship_time")
    ship_time = sku["ship_time"] if "ship_time" in sku else order.get("ship_time")
    carrier, waybill = _package_of(sku_id, logistics)
    cids = [str(sku[c]) for c in _CIDS if sku.get(c) not in (None, "", 0, "0")]
    row = {
        **common,
        "order_id": sku_id,
        "product_id": str(sku.get("product_id") or ""),
        "product_name": str(sku.get("product_name") or ""),
        "quantity": str(sku.get("item_num") or ""),
        "amount": _yuan(sku.get("pay_amount"), f"{where}.pay_amount"),
        "ship_mode": mode.value,
        # The platform sets exp_ship_time for every order; the facts format reads
        # promised_ship_time as the promise of presale and step orders only.
        "promised_ship_time": epoch_text(exp_ship, f"{where}.exp_ship_time")
        if mode is not ShipMode.SPOT
        else "",
        "ship_time": epoch_text(ship_time, f"{where}.ship_time"),
        "carrier": carrier,
        "waybill": waybill,
        "category_ids": ">".join(cids),
        "category": _category(options, str(sku.get("product_id") or ""), cids),
    }
    inspection = _inspection(sku.get("quality_check_info") or order.get("quality_check_info"),
                             where, sku_id, common["merchant_id"])  # fmt: skip
    row["inspection_code"] = inspection["inspection_code"] if inspection else ""
    if inspection and inspection["result"] == "":
        inspection = None  # bound but not inspected yet: the order keeps the code
    return row, inspection


def _inspection(info: Any, where: str, sku_id: str, merchant: str) -> dict[str, str] | None:
    if info in (None, {}):
        return None
    if not isinstance(info, dict):
        raise RowError(f"{where}.quality_check_info", "expected an object")
    code = str(info.get("check_result_code") or "")
    checked_field = f"{where}.quality_check_info.check_time"
    if code != _CHECK_PENDING and code not in _CHECK:
        raise RowError(f"{where}.quality_check_info.check_result_code", f"unknown code {code!r}")
    return {
        # Without a code of its own the check is keyed by the sku order (documented).
        "inspection_code": str(info.get("inspection_code") or f"QC-{sku_id}"),
        "merchant_id": merchant,
        "result": _CHECK[code].value if code in _CHECK else "",
        "inspected_at": epoch_text(info.get("check_time"), checked_field),
        "order_id": sku_id,
    }


def _paid(pay_time: Any) -> str:
    paid = epoch_text(pay_time, "pay_time")
    if not paid:  # an unpaid order owes no fulfilment (facts need pay_time)
        raise RowError("pay_time", "missing: an unpaid order has no fulfilment to check")
    return paid


def _destination(post_addr: Any) -> dict[str, str]:
    if post_addr in (None, {}):
        return {}
    if not isinstance(post_addr, dict):
        raise RowError("post_addr", "expected an object")
    names = {k: _name(post_addr.get(k), f"post_addr.{k}") for k in ("province", "city", "town")}
    street = _name(post_addr.get("street"), "post_addr.street")
    fields = ("post_addr.province.name", "post_addr.city.name", "post_addr.town.name")
    record = place(names["province"], names["city"], names["town"], fields)
    detail = str(post_addr.get("detail") or "")  # masked text; encrypt_detail is ciphertext
    record["address"] = "".join((*names.values(), street, detail))
    return record


def _name(part: Any, where: str) -> str:
    if part in (None, ""):
        return ""
    if not isinstance(part, dict):
        raise RowError(where, "expected an object with id and name")
    return str(part.get("name") or "")


def _logistics(info: Any) -> list[tuple[str, str, str, set[str]]]:
    """(carrier code, tracking number, ship time, sku order ids in the package)."""
    if info in (None, []):
        return []
    if not isinstance(info, list):
        raise RowError("logistics_info", "expected a list")
    packages = []
    for index, item in enumerate(info):
        where = f"logistics_info[{index}]"
        if not isinstance(item, dict):
            raise RowError(where, "expected an object")
        waybill = str(item.get("tracking_no") or "").strip()
        if not waybill:
            raise RowError(f"{where}.tracking_no", "missing")
        company = str(item.get("company") or "").strip()
        code = company if company in CARRIERS else ""
        if not code:
            name = str(item.get("company_name") or company)
            code = carrier_code(name, f"{where}.company") if name else ""
        if not code:
            raise RowError(f"{where}.company", "missing")
        products = item.get("product_info") or item.get("product") or []
        skus = {str(p.get("sku_order_id")) for p in products if isinstance(p, dict)}
        packages.append((code, waybill, str(item.get("ship_time") or ""), skus))
    return packages


def _package_of(sku_id: str, packages: list[tuple[str, str, str, set[str]]]) -> tuple[str, str]:
    for carrier, waybill, _, skus in packages:
        if sku_id in skus:
            return carrier, waybill
    if packages:  # a package that lists no sku orders carries the whole shop order
        unlisted = [p for p in packages if not p[3]]
        if unlisted:
            return unlisted[0][0], unlisted[0][1]
    return "", ""


def _category(options: OpenPlatformOptions, product_id: str, cids: list[str]) -> str:
    table = options.categories or {}
    for key in (product_id, *reversed(cids)):
        if key and key in table:
            return table[key]
    return options.default_category


def _yuan(fen: Any, where: str) -> str:
    if fen in (None, ""):
        return ""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise RowError(where, f"expected an amount in fen (integer), got {fen!r}")
    return f"{fen / 100:.2f}"


def _id(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if value in (None, "") or isinstance(value, (dict, list, bool)):
        raise RowError(where, "missing")
    return str(value)
