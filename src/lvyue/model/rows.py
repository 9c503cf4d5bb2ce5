"""The facts format (docs/formats.md), declared once: one pydantic model per facts table.

Each model is the table's one schema. The service validates JSON and CSV rows with it before
anything is written; the facts reader derives its column specs from it (``model.schema``:
name, kind from the annotation, header-required unless marked :data:`OPTIONAL`, not-null when
the field has no default, the key from ``key``); the importers and the simulator write the
columns it names. Times: naive means Beijing; stored aware UTC. Booleans: the one vocabulary
of ``model.cells`` (:data:`Flag`)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from lvyue.model.cells import PLAIN, read_flag
from lvyue.model.enums import (
    AfterSaleIntervention,
    AfterSaleReason,
    AfterSaleType,
    ComplaintReason,
    CrossBorderMode,
    InspectionResult,
    MerchantDecision,
    MerchantType,
    ReportStatus,
    ReportType,
    ShipMode,
    TrackingKind,
)
from lvyue.model.time import format_instant, parse_instant, to_beijing

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


def _flag(value: Any) -> bool | None:
    return read_flag(value)


def _flag_or_false(value: Any) -> bool:
    return read_flag(value) or False


Instant = Annotated[datetime, BeforeValidator(_instant)]
OptionalFlag = Annotated[bool | None, BeforeValidator(_flag)]  # empty: not given
Flag = Annotated[bool, BeforeValidator(_flag_or_false)]  # empty: false
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# A Kuaidi100 carrier code: the stores keep 32 characters (PostgreSQL refused a longer one
# for a whole batch, SQLite kept it).
Carrier = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.:-]+$")]
_PLAIN_RE = re.compile(PLAIN)
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it on every backend alike
# Text a merchant writes holds no control character at all (NUL, nor one XLSX cannot hold);
# a carrier's scan text and place only no NUL (exports escape the rest: model.cells).
Text = Annotated[str, Field(min_length=1, max_length=300, pattern=PLAIN)]

Code = Annotated[str, Field(max_length=128, pattern=PLAIN)]
Place = Annotated[str, Field(max_length=200, pattern=NO_NUL)]
Reference = Annotated[str, Field(max_length=500, pattern=PLAIN)]
ScanText = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]


class _Optional:
    """Marks a column a facts file may leave out (``Annotated[..., OPTIONAL]``)."""

    def __repr__(self) -> str:
        return "OPTIONAL"


OPTIONAL = _Optional()


class FactsRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    table: ClassVar[str]  # the facts table (file name)
    key: ClassVar[tuple[str, ...]] = ()  # unique per row (a duplicate is a bad row)


class OrderRow(FactsRow):
    """A sub-order (子订单). Unknown extra columns are kept (``extra``), never dropped."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    table: ClassVar[str] = "orders"
    key: ClassVar[tuple[str, ...]] = ("order_id",)

    order_id: Ident
    merchant_id: Ident
    merchant_type: MerchantType
    category: Text
    ship_mode: ShipMode
    pay_time: Instant
    promised_ship_time: Instant | None = None
    delayed_shipping: Flag = False
    ship_time: Instant | None = None
    carrier: Carrier | None = None
    waybill: Ident | None = None
    confirmed_receipt_time: Instant | None = None
    inspection_code: Code | None = None
    # Optional columns; the store keeps those the rules read in ``extra`` (EXTRA_FACTS).
    festival_open: Annotated[OptionalFlag, OPTIONAL] = None  # 春节不打烊
    established_store: Annotated[OptionalFlag, OPTIONAL] = None  # DR-5
    settlement_extended_penalty: Annotated[OptionalFlag, OPTIONAL] = None  # VF-6
    penalty_settlement_time: Annotated[Instant | None, OPTIONAL] = None  # VF-6a: when it settles
    pre_inspection: Annotated[OptionalFlag, OPTIONAL] = None  # BT-7: 前置质检/查验场景
    activity: Annotated[Text | None, OPTIONAL] = None  # SF-2 platform festival activity
    activity_ship_deadline: Annotated[Instant | None, OPTIONAL] = None  # SF-2 招商入口 latest
    agreed_ship_time: Annotated[Instant | None, OPTIONAL] = None  # SF-1 双方另有约定
    cross_border_mode: Annotated[CrossBorderMode | None, OPTIONAL] = None  # SF-5
    product_id: Annotated[Ident | None, OPTIONAL] = None  # BT-7's product; a column of its own
    promotion_id: Annotated[Ident | None, OPTIONAL] = None  # VF-9: the promotion it came from

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


def optional_columns(model: type[FactsRow]) -> tuple[str, ...]:
    """The columns of ``model`` a facts file may leave out (marked OPTIONAL)."""
    return tuple(n for n, f in model.model_fields.items() if OPTIONAL in f.metadata)


# Typed OrderRow fields stored in ``Order.extra``: recorded with the order, never changed by a
# re-send (store.corrections), read back by workflows.actions.stored_facts. ``product_id``
# has a column of its own (a re-send may fill it).
EXTRA_FACTS = tuple(n for n in optional_columns(OrderRow) if n != "product_id")


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


class ShipmentIn(FactsRow):
    """Shipping an order (发货): carrier (Kuaidi100 code) and waybill (运单号)."""

    carrier: Carrier
    waybill: Ident
    ship_time: Instant | None = Field(None, description="default: now")
    inspection_code: Code | None = None
    packing_video: Reference | None = Field(None, description="BT-9 packing-video reference")


class TrackingRow(FactsRow):
    table: ClassVar[str] = "tracking"

    carrier: Carrier
    waybill: Ident
    time: Instant
    kind: TrackingKind
    location: Annotated[Place | None, OPTIONAL] = None
    text: Annotated[ScanText | None, OPTIONAL] = None

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


class AfterSaleRow(FactsRow):
    table: ClassVar[str] = "after_sales"
    key: ClassVar[tuple[str, ...]] = ("aftersale_id",)

    aftersale_id: Ident
    order_id: Ident
    type: AfterSaleType
    created_at: Instant
    merchant_handled_at: Instant | None = None
    return_shipped_at: Instant | None = None
    merchant_received_at: Instant | None = None
    return_signed_at: Instant | None = None
    refunded_at: Instant | None = None
    merchant_decision: Annotated[MerchantDecision | None, OPTIONAL] = None  # SF-9b
    reason: Annotated[AfterSaleReason | None, OPTIONAL] = None  # VF-8: 残次, 描述不符, …
    # VF-8: the platform's intervention (平台介入) and when it was recorded; the platform's
    # record, never a merchant's (workflows.actions.after_sales.intervene)
    intervention: Annotated[AfterSaleIntervention | None, OPTIONAL] = None
    intervened_at: Annotated[Instant | None, OPTIONAL] = None

    @model_validator(mode="after")
    def _intervened_together(self) -> Self:
        if (self.intervention is None) != (self.intervened_at is None):
            raise ValueError("intervention and intervened_at go together (both or none)")
        if self.intervened_at is not None and self.intervened_at < self.created_at:
            raise ValueError(f"intervened_at: {format_instant(self.intervened_at)} is before "
                             "created_at")  # fmt: skip
        return self


class ReportRow(FactsRow):
    """A report-centre (报备) decision as a facts file records it (the service keeps reports
    in its workflow tables)."""

    table: ClassVar[str] = "reports"
    key: ClassVar[tuple[str, ...]] = ("report_id",)

    report_id: Ident
    merchant_id: Ident
    type: ReportType
    status: ReportStatus
    order_ids: str | None = None  # ";"-separated
    new_deadline: Annotated[Instant | None, OPTIONAL] = None
    period_start: Annotated[Instant | None, OPTIONAL] = None
    period_end: Annotated[Instant | None, OPTIONAL] = None
    regions: Annotated[str | None, OPTIONAL] = None


class InspectionRow(FactsRow):
    """A BTAS inspection result (BT-8..BT-12) as a facts file records it."""

    table: ClassVar[str] = "inspections"
    key: ClassVar[tuple[str, ...]] = ("inspection_code",)

    inspection_code: Code
    merchant_id: Ident
    result: InspectionResult
    inspected_at: Instant | None = None


class MerchantRow(FactsRow):
    table: ClassVar[str] = "merchants"
    key: ClassVar[tuple[str, ...]] = ("merchant_id",)

    merchant_id: Ident
    name: Annotated[str | None, OPTIONAL] = None
    merchant_type: Annotated[str | None, OPTIONAL] = None
    industry: Annotated[str | None, OPTIONAL] = None
    established_store: Annotated[OptionalFlag, OPTIONAL] = None  # DR-5
    created_at: Annotated[Instant | None, OPTIONAL] = None
    topic_analysis_enabled: Annotated[OptionalFlag, OPTIONAL] = None  # LD-11


class ReviewRow(FactsRow):
    """A consumer review (VF-8: 差评率)."""

    table: ClassVar[str] = "reviews"
    key: ClassVar[tuple[str, ...]] = ("review_id",)

    review_id: Ident
    order_id: Ident
    product_id: str | None = None
    rating: float  # 1..5 stars
    created_at: Instant


class ComplaintRow(FactsRow):
    """A consumer complaint (VF-8: 投诉率)."""

    table: ClassVar[str] = "complaints"
    key: ClassVar[tuple[str, ...]] = ("complaint_id",)

    complaint_id: Ident
    order_id: Ident
    reason: ComplaintReason
    created_at: Instant


class PromotionRow(FactsRow):
    """A promotion of a product (VF-1, VF-9): a creator's (达人) shared post or live stream, or
    the merchant's own listing (no ``creator_id``), with the text its logistics claims are
    read from (lvyue.model.claims)."""

    table: ClassVar[str] = "promotions"
    key: ClassVar[tuple[str, ...]] = ("promotion_id",)

    promotion_id: Ident
    product_id: Ident
    merchant_id: Ident
    creator_id: Annotated[Ident | None, OPTIONAL] = None  # empty: the merchant's own
    published_at: Instant
    text: Annotated[str, Field(min_length=1, max_length=MAX_EXTRA_CHARS, pattern=PLAIN)]


class LabelRow(FactsRow):
    """The simulator's expected verdicts (ground truth for tests)."""

    table: ClassVar[str] = "labels"

    order_id: str | None = None
    aftersale_id: str | None = None
    check: str | None = None
    expected_status: str | None = None
    note: Annotated[str | None, OPTIONAL] = None


ROW_MODELS: dict[str, type[FactsRow]] = {
    "orders": OrderRow,
    "tracking": TrackingRow,
    "after_sales": AfterSaleRow,
}

# Columns of docs/formats.md known though no field of the row model: kept as written by the
# facts reader and the store (``extra``), read by the diagnosis.
KNOWN_EXTRAS: dict[str, frozenset[str]] = {
    "orders": frozenset(
        [
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
    known = set(ROW_MODELS[table].model_fields) | KNOWN_EXTRAS[table]
    return sorted(set(columns) - known)


def describe(error: ValidationError) -> str:
    """One line naming each field at fault: ``pay_time: not an instant: 'x'``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "row"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
