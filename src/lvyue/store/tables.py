"""Core tables of the service: tenants, accounts and roles, the ingested facts, quarantine,
idempotency keys, sweep claims and the audit log. Workflow tables live in ``workflow_tables``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lvyue.store.db import Base
from lvyue.store.types import UtcDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Merchant(Base):
    """A shop (店铺): the tenant every merchant-owned row belongs to."""

    __tablename__ = "merchants"

    merchant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    merchant_type: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(100))
    established_store: Mapped[bool] = mapped_column(Boolean, default=False)
    topic_analysis_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Account(Base):
    """A login: operator, merchant main/sub account, inspection agency, carrier or consumer."""

    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.merchant_id"))
    # The organisation of a non-merchant account (agency or carrier code, e.g. ``zhongtong``).
    organisation: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # argon2id hash of the console password (None: this account cannot log in to the console).
    password_hash: Mapped[str | None] = mapped_column(String(200))


class ConsoleSession(Base):
    """A console log-in (cookie); only the cookie value's SHA-256 is stored. Separate from the
    API's bearer tokens: a cookie never authenticates an API call, nor a token a page."""

    __tablename__ = "console_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored (the token is shown once, at creation)."""

    __tablename__ = "api_tokens"

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set on every token issued; a token without one (none after the migration) is refused.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Position(Base):
    """A role (岗位) a merchant's main account defines, holding granted permissions (LD-9)."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("merchant_id", "name"),)

    position_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PositionPermission(Base):
    __tablename__ = "position_permissions"

    position_id: Mapped[int] = mapped_column(
        ForeignKey("positions.position_id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)


class AccountPosition(Base):
    """Which positions a sub-account holds."""

    __tablename__ = "account_positions"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    position_id: Mapped[int] = mapped_column(
        ForeignKey("positions.position_id", ondelete="CASCADE"), primary_key=True
    )


class Order(Base):
    """A sub-order (子订单) in the facts format; optional columns kept in ``extra``."""

    __tablename__ = "orders"
    __table_args__ = (  # keyset pages of the console (migration console_list_indexes)
        Index("ix_orders_pay_time_order_id", "pay_time", "order_id"),
        Index("ix_orders_merchant_pay_time", "merchant_id", "pay_time", "order_id"),
    )

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    merchant_type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(300))
    ship_mode: Mapped[str] = mapped_column(String(32))
    pay_time: Mapped[datetime] = mapped_column(UtcDateTime)
    promised_ship_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delayed_shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_receipt_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    product_id: Mapped[str | None] = mapped_column(String(64))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # 1 as first recorded; each correction (audited as ``order.correct``) adds one
    version: Mapped[int] = mapped_column(Integer, default=1)


class Shipment(Base):
    """The shipping act (发货): carrier and waybill uploaded for an order; one per order, and
    one order per (carrier, waybill) — a parcel is one shipment (``store.shipping``)."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_carrier_waybill", "carrier", "waybill", unique=True),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    waybill: Mapped[str] = mapped_column(String(64))
    ship_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # server (the clock when recorded), claimed (a merchant's bounded claim) or platform
    ship_time_source: Mapped[str] = mapped_column(String(16), default="server")
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    inspection_code: Mapped[str | None] = mapped_column(String(128))
    packing_video: Mapped[str | None] = mapped_column(String(500))  # BT-9 reference
    shipped_by: Mapped[str | None] = mapped_column(String(64))


class TrackingEvent(Base):
    """A canonical carrier scan; the natural key makes repeated or reordered pushes harmless."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("carrier", "waybill", "time", "kind"),)

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(32))
    waybill: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AfterSale(Base):
    """An after-sales request (售后) and the instants of its steps, as in the facts format."""

    __tablename__ = "after_sales"

    aftersale_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    merchant_handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    return_shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    merchant_received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    return_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    merchant_decision: Mapped[str | None] = mapped_column(String(16))  # agreed | rejected
    reason: Mapped[str | None] = mapped_column(String(32))  # VF-8: defect, not_as_described, …
    # VF-8a: the platform's intervention (refund_only, return_refund, return_shipping_merchant)
    intervention: Mapped[str | None] = mapped_column(String(32))
    intervened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # 1 as first recorded; each correction (audited as ``aftersale.correct``) adds one
    version: Mapped[int] = mapped_column(Integer, default=1)


class Review(Base):
    """A consumer's review of an order (VF-8: 差评率), as in the facts format's ``reviews``."""

    __tablename__ = "reviews"

    review_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    product_id: Mapped[str | None] = mapped_column(String(64))
    rating: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Complaint(Base):
    """A consumer's complaint about an order (VF-8: 投诉率), as in the facts format's
    ``complaints``."""

    __tablename__ = "complaints"

    complaint_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class QuarantinedRow(Base):
    """A row ingestion refused, with the error and the raw payload, until fixed and replayed."""

    __tablename__ = "quarantine"

    quarantine_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))  # orders, shipments, tracking, ...
    merchant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SHA-256 of the canonical payload: the same bad row sent again is not quarantined twice.
    payload_hash: Mapped[str] = mapped_column(String(64), index=True)
    error: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open/replayed/discarded
    received_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PushSubscription(Base):
    """A carrier integration's push subscription (Kuaidi100 订阅): the callback URL names it,
    its salt signs every push (the pusher cannot send a bearer token), and it pushes as its
    carrier account."""

    __tablename__ = "push_subscriptions"

    subscription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    salt: Mapped[str] = mapped_column(String(128))  # a shared secret: MD5 needs it in clear
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IngestJob(Base):
    """A large upload, processed off the request by the job runner in short transactions:
    its rows, who sent them (and so what they may write), progress and result."""

    __tablename__ = "ingest_jobs"

    job_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    merchant_id: Mapped[str | None] = mapped_column(String(64))  # the sender's write scope
    carrier: Mapped[str | None] = mapped_column(String(64))
    # the sender held orders:ship when it sent the rows: rows with ship fields ship
    may_ship: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(32))  # orders, tracking, after_sales
    status: Mapped[str] = mapped_column(String(16), default="queued")  # running, done, failed
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The lease of the runner processing it, renewed with each chunk: a running job whose
    # lease has run out (its process died) is claimed again and resumes after ``rows_done``.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """The stored response of a request made with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SweepClaim(Base):
    """One run of a periodic sweep for one period; the primary key makes it run once."""

    __tablename__ = "sweep_claims"

    sweep: Mapped[str] = mapped_column(String(100), primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditEntry(Base):
    """Every state change and rule-driven decision, with actor, time and clause (GN-3)."""

    __tablename__ = "audit_log"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # account id, or "system:<sweep>"
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    merchant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    clause: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
