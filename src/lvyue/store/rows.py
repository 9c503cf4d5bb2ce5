"""Rows of the facts format (docs/formats.md) as pydantic models: what JSON and CSV ingestion
validate before anything is written. Times: naive means Beijing; stored aware UTC."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from lvyue.model import (
    AfterSaleType,
    MerchantType,
    ShipMode,
    TrackingKind,
    format_instant,
    parse_instant,
)
from lvyue.model.cells import PLAIN
from lvyue.model.enums import CrossBorderMode, MerchantDecision
from lvyue.model.time import to_beijing

# Instants a fact can plausibly carry (Beijing years): anything outside is a typo or a
# placeholder (1900-01-01, 9999-12-31) and is refused naming its field, never stored.
FIRST_YEAR, LAST_YEAR = 2000, 2099
# Columns an order row may carry beyond the known ones (kept in ``extra``).
MAX_EXTRA_COLUMNS = 50
MAX_EXTRA_CHARS = 2_000  # each value, like a report's description


def _instant(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        moment = None if value is None else parse_instant(value)
    elif isinstance(value, str):
        moment = parse_instant(value) if value.strip() else None
    else:
        raise ValueError("expected a time text such as 2023-02-02 23:59:59")
    if moment is not None and not FIRST_YEAR <= to_beijing(moment).year <= LAST_YEAR:
        raise ValueError(f"a time from {FIRST_YEAR} to {LAST_YEAR} (Beijing), not {value}")
    return moment


Instant = Annotated[datetime, BeforeValidator(_instant)]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
_PLAIN_RE = re.compile(PLAIN)
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it on every backend alike
# Text a merchant writes holds no control character at all (NUL, nor one XLSX cannot hold);
# a carrier's scan text and place only no NUL (exports escape the rest: model.cells).
Text = Annotated[str, Field(min_length=1, max_length=300, pattern=PLAIN)]

Code = Annotated[str, Field(max_length=128, pattern=PLAIN)]
Place = Annotated[str, Field(max_length=200, pattern=NO_NUL)]
Reference = Annotated[str, Field(max_length=500, pattern=PLAIN)]
ScanText = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]


class _Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)


class OrderRow(_Row):
    """A sub-order (子订单). Unknown extra columns are kept (``extra``), never dropped."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    order_id: Ident
    merchant_id: Ident
    merchant_type: MerchantType
    category: Text
    ship_mode: ShipMode
    pay_time: Instant
    promised_ship_time: Instant | None = None
    delayed_shipping: bool = False
    ship_time: Instant | None = None
    carrier: Ident | None = None
    waybill: Ident | None = None
    confirmed_receipt_time: Instant | None = None
    inspection_code: Code | None = None
    product_id: Ident | None = None
    # Optional facts the rules read, kept in ``extra`` (EXTRA_FACTS) but checked here.
    agreed_ship_time: Instant | None = None  # SF-1 双方另有约定
    activity: Text | None = None  # SF-2 platform festival activity
    activity_ship_deadline: Instant | None = None  # SF-2 its 招商入口 latest ship time
    cross_border_mode: CrossBorderMode | None = None  # SF-5 海外集货 | BBC保税
    penalty_settlement_time: Instant | None = None  # VF-6a: when the 延长账期 penalty settles it

    @model_validator(mode="after")
    def _plain_extras(self) -> Self:
        for name, value in (self.model_extra or {}).items():
            if problem := _extra_problem(value):
                raise ValueError(f"{name}: {problem}")
        return self

    @model_validator(mode="after")
    def _shipped_together(self) -> Self:
        given = [self.ship_time is not None, bool(self.carrier), bool(self.waybill)]
        if any(given) and not all(given):
            raise ValueError("ship_time, carrier and waybill go together (all or none)")
        for name in ("ship_time", "confirmed_receipt_time"):
            moment = getattr(self, name)
            if moment is not None and moment < self.pay_time:
                raise ValueError(f"{name}: {format_instant(moment)} is before pay_time")
        extra = len(self.model_extra or {})
        if extra > MAX_EXTRA_COLUMNS:
            raise ValueError(f"columns: {extra} unknown columns, at most {MAX_EXTRA_COLUMNS}")
        return self

    def parcel(self) -> ShipmentIn | None:
        """The shipment the row carries (ship_time, carrier, waybill), if any."""
        if self.ship_time is None or not self.carrier or not self.waybill:
            return None
        return ShipmentIn(
            carrier=self.carrier,
            waybill=self.waybill,
            ship_time=self.ship_time,
            inspection_code=self.inspection_code,
            packing_video=None,
        )

    def extra_columns(self) -> dict[str, Any]:
        """The optional columns, JSON-safe (times as ISO text with the Beijing offset)."""
        given = {**(self.model_extra or {}), **{k: getattr(self, k) for k in EXTRA_FACTS}}
        return {k: _json_safe(v) for k, v in given.items() if v not in (None, "")}


# Typed OrderRow fields stored in ``Order.extra``: recorded with the order, never changed by a
# re-send (store.corrections), read back by workflows.actions.stored_facts.
EXTRA_FACTS = (
    "agreed_ship_time",
    "activity",
    "activity_ship_deadline",
    "cross_border_mode",
    "penalty_settlement_time",
)


def _extra_problem(value: Any) -> str | None:
    """Why an extra column's value is not stored, if it is not: extras are JSON scalars (a
    nested object would be kept as Python text nobody can read back), finite (PostgreSQL
    refuses NaN, SQLite stores null), plain text of at most :data:`MAX_EXTRA_CHARS`."""
    if isinstance(value, dict | list | tuple | set):
        return "not a nested object or list (a number, a text or true/false)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"not a finite number ({value})"
    if isinstance(value, str):
        if len(value) > MAX_EXTRA_CHARS:
            return f"{len(value):,} characters, at most {MAX_EXTRA_CHARS:,}"
        if not _PLAIN_RE.match(value):
            return "control character (such as NUL) in the text"
    return None


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


class ShipmentIn(_Row):
    """Shipping an order (发货): carrier (Kuaidi100 code) and waybill (运单号)."""

    carrier: Ident
    waybill: Ident
    ship_time: Instant | None = Field(None, description="default: now")
    inspection_code: Code | None = None
    packing_video: Reference | None = Field(None, description="BT-9 packing-video reference")


class TrackingRow(_Row):
    carrier: Ident
    waybill: Ident
    time: Instant
    kind: TrackingKind
    location: Place | None = None
    text: ScanText | None = None

    def event_values(self, received_at: datetime) -> dict[str, Any]:
        """The tracking_events row this scan becomes (one shape for both ingestion paths)."""
        return {
            "carrier": self.carrier,
            "waybill": self.waybill,
            "time": self.time,
            "kind": self.kind.value,
            "location": self.location,
            "text": self.text,
            "received_at": received_at,
        }


class AfterSaleRow(_Row):
    aftersale_id: Ident
    order_id: Ident
    type: AfterSaleType
    created_at: Instant
    merchant_handled_at: Instant | None = None
    return_shipped_at: Instant | None = None
    merchant_received_at: Instant | None = None
    return_signed_at: Instant | None = None
    refunded_at: Instant | None = None
    merchant_decision: MerchantDecision | None = None  # SF-9b: agreed | rejected


ROW_MODELS: dict[str, type[_Row]] = {
    "orders": OrderRow,
    "tracking": TrackingRow,
    "after_sales": AfterSaleRow,
}

# The optional columns of docs/formats.md: known, though no field of the row model.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "orders": frozenset(
        [
            "festival_open",
            "activity",
            "established_store",
            "settlement_extended_penalty",
            "industry",
            "amount",
            "created_time",
            "order_status",
            "origin_province",
            "origin_city",
            "dest_province",
            "dest_city",
            "dest_district",
            "address",
            "outlet",
            "settled",
            "settled_at",
            "refunded",
            "complained",
            "logistics_return",
        ]
    ),
    "tracking": frozenset({"outlet", "city"}),
    "after_sales": frozenset(),
}


def unknown_columns(table: str, columns: Iterable[str]) -> list[str]:
    """Columns of an upload that the facts format does not know (a misspelling, most likely):
    kept as extras of an order, ignored elsewhere, and reported either way."""
    known = set(ROW_MODELS[table].model_fields) | OPTIONAL_COLUMNS[table]
    return sorted(set(columns) - known)


def describe(error: ValidationError) -> str:
    """One line naming each field at fault: ``pay_time: not an instant: 'x'``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "row"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
