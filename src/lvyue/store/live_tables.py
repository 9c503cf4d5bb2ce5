"""Live verdicts (issue 13 item 2): the verdicts the worker keeps current, and the marks
that tell it which orders to judge again.

- ``live_verdicts``: one row per (order, after-sales request, check) as the one online
  evaluator (``engine.online.evaluate_order``) last judged it, with the watermark of the
  facts it was judged from (``facts_at``) and the instant it was judged as of (``as_of``).
- ``live_marks``: one row per order to judge again. ``dirty``: a write changed its facts
  (set in the transaction of that write, ``store.marks``); ``due_at``: the business instant
  at which time alone may change a verdict (a deadline, the at-risk horizon, a recorded
  instant still ahead of the clock). The worker claims rows that are dirty or due.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lvyue.store.db import Base
from lvyue.store.tables import utcnow
from lvyue.store.types import UtcDateTime


class LiveVerdict(Base):
    """A verdict as last judged by the worker (``workflows.live``)."""

    __tablename__ = "live_verdicts"
    __table_args__ = (
        # at-risk lists and dashboard counts: per merchant or all, by status, soonest first
        Index("ix_live_verdicts_status_deadline", "status", "deadline", "order_id"),
        Index("ix_live_verdicts_merchant_status", "merchant_id", "status", "deadline"),
    )

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    aftersale_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" for the order
    check: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    duty: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    clauses: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(64))
    facts_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the facts watermark (real time)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)  # judged as of (business time)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)  # status moved


class LiveMark(Base):
    """An order to judge again: now (``dirty``) or when time alone may change it (``due_at``)."""

    __tablename__ = "live_marks"
    __table_args__ = (
        Index("ix_live_marks_dirty", "dirty", "marked_at"),
        Index("ix_live_marks_due_at", "due_at"),
        Index("ix_live_marks_lease_until", "lease_until"),
    )

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)  # the last write
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The round judging the order (``workflows.live.claim``) and until when (real time): a
    # worker that died mid-round leaves it, and the order is taken again once it has passed.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
