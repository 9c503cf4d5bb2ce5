"""The facts format as data: tables, columns, kinds and which are required (docs/formats.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lvyue.model.enums import (
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


class Kind(StrEnum):
    TEXT = "text"
    TIME = "time"  # -> timestamp[s, UTC]; naive text is Beijing time
    BOOL = "bool"  # true/false, 1/0, yes/no; empty = false
    ENUM = "enum"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = True  # the header must have it
    not_null: bool = False  # every row must have a value
    values: tuple[str, ...] = ()  # allowed values of an enum


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique per row (duplicates are bad rows)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _enum(name: str, values: type[StrEnum], *, required: bool = True) -> Column:
    return Column(name, Kind.ENUM, required, required, tuple(v.value for v in values))


def _id(name: str) -> Column:
    return Column(name, Kind.TEXT, True, True)


def _time(name: str, *, required: bool = True, not_null: bool = False) -> Column:
    return Column(name, Kind.TIME, required, not_null)


def _opt(name: str, kind: Kind = Kind.TEXT) -> Column:
    return Column(name, kind, required=False)


ORDERS = TableSpec(
    "orders",
    (
        _id("order_id"),
        _id("merchant_id"),
        _enum("merchant_type", MerchantType),
        _id("category"),
        _enum("ship_mode", ShipMode),
        _time("pay_time", not_null=True),
        _time("promised_ship_time"),
        Column("delayed_shipping", Kind.BOOL),
        _time("ship_time"),
        Column("carrier"),
        Column("waybill"),
        _time("confirmed_receipt_time"),
        Column("inspection_code"),
        _opt("festival_open", Kind.BOOL),  # 春节不打烊
        _opt("established_store", Kind.BOOL),  # DR-5
        _opt("settlement_extended_penalty", Kind.BOOL),  # VF-6
        _time("penalty_settlement_time", required=False),  # VF-6: when that penalty settles it
        _opt("pre_inspection", Kind.BOOL),  # BT-7: listed with 前置质检/查验场景
        _opt("activity"),  # SF-2: the platform festival activity the order belongs to
        _time("activity_ship_deadline", required=False),  # SF-2: its 招商入口 latest ship time
        _time("agreed_ship_time", required=False),  # SF-1: 双方另有约定, the agreed ship time
        _enum("cross_border_mode", CrossBorderMode, required=False),  # SF-5
    ),
    key=("order_id",),
)

TRACKING = TableSpec(
    "tracking",
    (
        _id("carrier"),
        _id("waybill"),
        _time("time", not_null=True),
        # the canonical vocabulary, the consolidation warehouse-in (集货入库, SF-5) included
        Column("kind", Kind.ENUM, True, True, tuple(k.value for k in TrackingKind)),
        _opt("location"),
        _opt("text"),
    ),
)

AFTER_SALES = TableSpec(
    "after_sales",
    (
        _id("aftersale_id"),
        _id("order_id"),
        _enum("type", AfterSaleType),
        _time("created_at", not_null=True),
        _time("merchant_handled_at"),
        _time("return_shipped_at"),
        _time("merchant_received_at"),
        _time("return_signed_at"),
        _time("refunded_at"),
        _enum("merchant_decision", MerchantDecision, required=False),  # SF-9b: agreed|rejected
        _enum("reason", AfterSaleReason, required=False),  # VF-8: 残次, 描述不符, …
    ),
    key=("aftersale_id",),
)

REPORTS = TableSpec(
    "reports",
    (
        _id("report_id"),
        _id("merchant_id"),
        _enum("type", ReportType),
        _enum("status", ReportStatus),
        Column("order_ids"),
        _time("new_deadline", required=False),
        _time("period_start", required=False),
        _time("period_end", required=False),
        _opt("regions"),
    ),
    key=("report_id",),
)

INSPECTIONS = TableSpec(
    "inspections",
    (
        _id("inspection_code"),
        _id("merchant_id"),
        _enum("result", InspectionResult),
        _time("inspected_at"),
    ),
    key=("inspection_code",),
)

MERCHANTS = TableSpec(
    "merchants",
    (
        _id("merchant_id"),
        _opt("name"),
        _opt("merchant_type"),
        _opt("industry"),
        _opt("established_store", Kind.BOOL),
        _time("created_at", required=False),
        _opt("topic_analysis_enabled", Kind.BOOL),
    ),
    key=("merchant_id",),
)

REVIEWS = TableSpec(  # VF-8: 差评率
    "reviews",
    (
        _id("review_id"),
        _id("order_id"),
        Column("product_id"),
        Column("rating", Kind.NUMBER, True, True),  # 1..5 stars
        _time("created_at", not_null=True),
    ),
    key=("review_id",),
)

COMPLAINTS = TableSpec(  # VF-8: 投诉率
    "complaints",
    (
        _id("complaint_id"),
        _id("order_id"),
        _enum("reason", ComplaintReason),
        _time("created_at", not_null=True),
    ),
    key=("complaint_id",),
)

LABELS = TableSpec(
    "labels",
    (
        Column("order_id"),
        Column("aftersale_id"),
        Column("check"),
        Column("expected_status"),
        _opt("note"),
    ),
)

TABLES: tuple[TableSpec, ...] = (
    ORDERS,
    TRACKING,
    AFTER_SALES,
    REPORTS,
    INSPECTIONS,
    MERCHANTS,
    LABELS,
    REVIEWS,
    COMPLAINTS,
)
