"""Creators (达人, VF-1, VF-9) in the service: registered by an operator, the products they share,
and the promotions they (or an operator) post, whose texts make the claims VF-9 checks.

Tenancy: a creator acts only for itself; another creator's id, or a product it does not share,
is answered exactly like an id nobody has (never whose). Every write is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lvyue.model.rows import PromotionRow
from lvyue.store.audit import audit
from lvyue.store.creator_tables import Creator, CreatorShare, Promotion
from lvyue.store.tables import Merchant, Order
from lvyue.workflows.machine import Conflict, Refusal

CLAUSE = "VF-9"


@dataclass(frozen=True)
class Caller:
    """Who acts: an operator (``creator_id`` None) or one creator."""

    account_id: str
    creator_id: str | None = None

    def own(self, creator_id: str | None) -> str | None:
        """The creator acted for: a creator's own (another's id reads as unknown)."""
        if self.creator_id is None:
            return creator_id
        if creator_id not in (None, self.creator_id):
            raise _unknown_creator(creator_id)
        return self.creator_id


def _unknown_creator(creator_id: str | None) -> Refusal:
    return Refusal(f"creator_id: unknown creator {creator_id!r}", clause=CLAUSE, field="creator_id")


def _creator(session: Session, creator_id: str) -> Creator:
    row = session.get(Creator, creator_id)
    if row is None:
        raise _unknown_creator(creator_id)
    return row


def _merchant(session: Session, merchant_id: str) -> None:
    if session.get(Merchant, merchant_id) is None:
        raise Refusal(f"merchant_id: unknown merchant {merchant_id!r}", field="merchant_id")


def register(session: Session, *, creator_id: str, name: str, actor: str, now: datetime) -> Creator:
    """A new creator (an operator's act); its accounts are made after (POST /accounts)."""
    if session.get(Creator, creator_id) is not None:
        raise Conflict(f"creator_id: {creator_id!r} is already registered", field="creator_id")
    row = Creator(creator_id=creator_id, name=name, created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    audit(session, actor=actor, action="creator.register", entity="creator", entity_id=creator_id,
          merchant_id=None, clause=CLAUSE, detail={"name": name}, at=now)  # fmt: skip
    return row


def share(
    session: Session, caller: Caller, *, creator_id: str, product_id: str, merchant_id: str,
    now: datetime,
) -> CreatorShare:  # fmt: skip
    """The creator shares a merchant's product (商品分享); sharing it again changes nothing."""
    creator = _creator(session, caller.own(creator_id) or creator_id).creator_id
    _merchant(session, merchant_id)
    row = session.get(CreatorShare, (creator, product_id))
    if row is not None:
        if row.merchant_id != merchant_id:
            raise Conflict(f"product_id: {product_id!r} is shared as another shop's product",
                           field="product_id")  # fmt: skip
        return row
    row = CreatorShare(creator_id=creator, product_id=product_id, merchant_id=merchant_id,
                       created_by=caller.account_id, created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    audit(session, actor=caller.account_id, action="creator.share", entity="creator",
          entity_id=creator, merchant_id=merchant_id, clause=CLAUSE,
          detail={"product_id": product_id}, at=now)  # fmt: skip
    return row


def shares(session: Session, creator_id: str) -> list[CreatorShare]:
    query = select(CreatorShare).where(CreatorShare.creator_id == creator_id)
    return list(session.scalars(query.order_by(CreatorShare.product_id)))


@dataclass(frozen=True)
class PromotionIn:
    promotion_id: str
    product_id: str
    text: str
    creator_id: str | None = None
    merchant_id: str | None = None
    published_at: datetime | None = None


def post(session: Session, caller: Caller, body: PromotionIn, *, now: datetime) -> Promotion:
    """A promotion recorded: a creator's for a product it shares (published now: it cannot date
    its own post, or it could move orders out of the judgement), or an operator's for any
    creator's shared product or a merchant's own listing (no creator; a past time allowed)."""
    creator_id = caller.own(body.creator_id)
    if caller.creator_id is not None and body.published_at is not None:
        raise Refusal("published_at: a creator's post is published when it is posted",
                      clause=CLAUSE, field="published_at")  # fmt: skip
    merchant_id = _owner(session, creator_id, body)
    published = body.published_at or now
    if published > now:
        raise Refusal("published_at: in the future", clause=CLAUSE, field="published_at")
    _valid(body, merchant_id, creator_id, published)
    if session.get(Promotion, body.promotion_id) is not None:  # never whose
        raise Conflict(f"promotion_id: {body.promotion_id!r} is already recorded",
                       field="promotion_id")  # fmt: skip
    _not_named_by_others(session, body.promotion_id, merchant_id, body.product_id)
    row = Promotion(promotion_id=body.promotion_id, product_id=body.product_id,
                    merchant_id=merchant_id, creator_id=creator_id, published_at=published,
                    text=body.text, created_by=caller.account_id, created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    audit(session, actor=caller.account_id, action="promotion.post", entity="promotion",
          entity_id=body.promotion_id, merchant_id=merchant_id, clause=CLAUSE,
          detail={"creator_id": creator_id, "product_id": body.product_id}, at=now)  # fmt: skip
    return row


def _not_named_by_others(
    session: Session, promotion_id: str, merchant_id: str, product_id: str
) -> None:
    """Orders may name a promotion before it is recorded; an id already named by orders of
    another shop or product is not this promotion's (they did not come from it): refused, so
    the id cannot carry them into its claims (the claim check would leave them out anyway,
    lvyue.indicators.creators.expressions). Never whose: the orders are not named."""
    named = Order.extra["promotion_id"].as_string() == promotion_id
    other = or_(Order.merchant_id != merchant_id, Order.product_id != product_id)
    if session.scalar(select(Order.order_id).where(named, other).limit(1)) is not None:
        raise Conflict(f"promotion_id: {promotion_id!r} is named by orders of another shop "
                       "or product", clause=CLAUSE, field="promotion_id")  # fmt: skip


def _owner(session: Session, creator_id: str | None, body: PromotionIn) -> str:
    """Whose product is promoted: the shop of the creator's share, or the merchant's own."""
    if creator_id is None:
        if body.merchant_id is None:
            raise Refusal("merchant_id: a merchant's own listing names its merchant",
                          clause=CLAUSE, field="merchant_id")  # fmt: skip
        _merchant(session, body.merchant_id)
        return body.merchant_id
    _creator(session, creator_id)
    shared = session.get(CreatorShare, (creator_id, body.product_id))
    if shared is None or body.merchant_id not in (None, shared.merchant_id):
        raise Refusal(f"product_id: {body.product_id!r} is not a product the creator shares",
                      clause=CLAUSE, field="product_id")  # fmt: skip
    return shared.merchant_id


def _valid(body: PromotionIn, merchant_id: str, creator_id: str | None, at: datetime) -> None:
    """The facts format's own check of a promotion row (model.rows.PromotionRow)."""
    try:
        PromotionRow(promotion_id=body.promotion_id, product_id=body.product_id,
                     merchant_id=merchant_id, creator_id=creator_id, published_at=at,
                     text=body.text)  # fmt: skip
    except ValidationError as error:
        where = str(error.errors()[0]["loc"][0]) if error.errors() else "promotion"
        raise Refusal(f"{where}: {error.errors()[0]['msg']}", clause=CLAUSE, field=where) from None


def of_party(
    session: Session, *, creator_id: str | None = None, merchant_id: str | None = None
) -> list[Promotion]:
    """Promotions of a creator, on a merchant's products, or all (both None)."""
    query = select(Promotion).order_by(Promotion.promotion_id)
    if creator_id is not None:
        query = query.where(Promotion.creator_id == creator_id)
    if merchant_id is not None:
        query = query.where(Promotion.merchant_id == merchant_id)
    return list(session.scalars(query))


def promotion_owner(session: Session, promotion_id: str) -> tuple[str, str] | None:
    """(merchant_id, product_id) of a recorded promotion, or None."""
    row = session.get(Promotion, promotion_id)
    return None if row is None else (row.merchant_id, row.product_id)


def with_promotions(session: Session, tables: dict[str, pa.Table | None]) -> dict[str, Any]:
    """The store's facts tables (``indicator_facts.stored_tables``) with what VF-9's claim
    check reads besides: the recorded promotions, and each order's ``promotion_id``."""
    orders = tables["orders"]
    assert orders is not None
    named: dict[str, Any] = dict(session.execute(select(Order.order_id, Order.extra)).all())
    ids = [(named.get(o) or {}).get("promotion_id") for o in orders.column("order_id").to_pylist()]
    rows = session.execute(
        select(Promotion.promotion_id, Promotion.product_id, Promotion.merchant_id,
               Promotion.creator_id, Promotion.published_at, Promotion.text)
    ).all()  # fmt: skip
    names = ("promotion_id", "product_id", "merchant_id", "creator_id", "published_at", "text")
    columns = list(zip(*rows, strict=True)) or [() for _ in names]
    kinds = [pa.string()] * 4 + [pa.timestamp("us", tz="UTC"), pa.string()]
    promotions = pa.table([pa.array(c, k) for c, k in zip(columns, kinds, strict=True)], names)
    return tables | {
        "orders": orders.append_column("promotion_id", pa.array(ids, pa.string())),
        "promotions": promotions,
    }
