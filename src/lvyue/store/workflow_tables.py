"""Tables of the workflows (BTAS inspection, report centre, delayed-shipping tool, after-sales
states, violations, operator measures). Audit entries go to the core ``audit_log``.

Every workflow row carries ``state`` and ``version``: a transition updates ``WHERE version =
<read version>`` so two workers or two clicks never apply the same step twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import lvyue.store.creator_tables  # noqa: F401  (creators: a measure may be against one)
from lvyue.store.db import Base
from lvyue.store.tables import utcnow
from lvyue.store.types import UtcDateTime


class Inspection(Base):
    """A BTAS inspection order (送检单): one item sent to one agency (BT-4)."""

    __tablename__ = "wf_inspections"

    inspection_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(300))
    agency: Mapped[str] = mapped_column(String(64), index=True)  # agency organisation code
    order_id: Mapped[str | None] = mapped_column(String(64))  # sold before inspection (BT-2)
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    carrier: Mapped[str | None] = mapped_column(String(32))
    waybill: Mapped[str | None] = mapped_column(String(64))
    send_video: Mapped[str | None] = mapped_column(String(500))  # BT-9 packing video
    report_ref: Mapped[str | None] = mapped_column(String(500))  # the agency's report
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    resubmit_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InspectionCode(Base):
    """An issued code (一物一检编码, BT-10): one per item and merchant, bound to one order."""

    __tablename__ = "wf_inspection_codes"
    __table_args__ = (UniqueConstraint("merchant_id", "item_id"),)

    code_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # as printed; not a secret
    inspection_id: Mapped[str] = mapped_column(
        ForeignKey("wf_inspections.inspection_id"), unique=True
    )
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"))
    item_id: Mapped[str] = mapped_column(String(64))
    tag_ref: Mapped[str] = mapped_column(String(200))  # anti-tamper tag 防拆扣/溯源签 (BT-7)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    bound_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    bound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Report(Base):
    """A report-centre filing (报备, SF-8)."""

    __tablename__ = "wf_reports"

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    order_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    latest_ship_date: Mapped[date | None] = mapped_column(Date)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)


class ReportEvidence(Base):
    """An uploaded evidence file of a report (kept in the database; size-limited)."""

    __tablename__ = "wf_report_evidence"

    evidence_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("wf_reports.report_id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DelayedShipping(Base):
    """The delayed-shipping tool set on a product (SF-4), with the clause that allowed it."""

    __tablename__ = "wf_delayed_shipping"

    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    category: Mapped[str] = mapped_column(String(300))
    ship_mode: Mapped[str] = mapped_column(String(32))
    clause: Mapped[str] = mapped_column(String(64))
    order_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AfterSaleState(Base):
    """The workflow state of a core ``after_sales`` row (SF-9)."""

    __tablename__ = "wf_after_sale_states"

    aftersale_id: Mapped[str] = mapped_column(
        ForeignKey("after_sales.aftersale_id"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Violation(Base):
    """A confirmed breach of the merchant (SF-10), once per (order, after-sale, check)."""

    __tablename__ = "wf_violations"
    __table_args__ = (
        UniqueConstraint("order_id", "aftersale_id", "check"),
        # keyset pages of the console (migration console_list_indexes)
        Index("ix_wf_violations_detected", "detected_at", "violation_id"),
        Index("ix_wf_violations_merchant_detected", "merchant_id", "detected_at", "violation_id"),
    )

    violation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    order_id: Mapped[str] = mapped_column(String(64))
    aftersale_id: Mapped[str] = mapped_column(String(64), default="")  # "" for order checks
    check: Mapped[str] = mapped_column(String(64))
    clause: Mapped[str] = mapped_column(String(200))  # ";"-joined when several decided
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64))  # the sweep or engine that found it
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Measure(Base):
    """A measure against a merchant or one of its products (VF-7, VF-8, VF-9 merchant's own
    listings), or against a creator (VF-9: ``creator_id`` set, ``merchant_id`` empty): imposed
    by an operator or recorded by rule (``created_by`` ``rule:…``)."""

    __tablename__ = "wf_measures"

    measure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("merchants.merchant_id"), index=True
    )
    creator_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("creators.creator_id"), index=True
    )
    product_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    clause: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
