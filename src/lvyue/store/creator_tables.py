"""Creators (达人, VF-1, VF-9): who they are, which products they share (橱窗 / 购物车), and the
promotions they (or a merchant, for its own listing) publish, whose texts make the logistics
claims VF-9 checks (lvyue.model.claims). A creator account's ``organisation`` is its
``creator_id`` here; orders name the promotion they came from (``orders.extra.promotion_id``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lvyue.store.db import Base
from lvyue.store.tables import utcnow
from lvyue.store.types import UtcDateTime


class Creator(Base):
    """A creator (达人): the tenant its accounts, promotions and measures belong to."""

    __tablename__ = "creators"

    creator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CreatorShare(Base):
    """A merchant's product a creator shares (商品分享): the only products it may promote."""

    __tablename__ = "creator_shares"

    creator_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("creators.creator_id"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("merchants.merchant_id"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Promotion(Base):
    """A promotion of a product: a creator's post or live stream, or (no ``creator_id``) the
    merchant's own listing, with the text its claims are read from (model.rows.PromotionRow)."""

    __tablename__ = "promotions"

    promotion_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("merchants.merchant_id"), index=True
    )
    creator_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("creators.creator_id"), index=True
    )
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
