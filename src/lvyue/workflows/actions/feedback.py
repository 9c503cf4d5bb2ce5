"""Reviews and complaints (VF-8: 差评率, 投诉率): a consumer's about its own order (the service
issues the id and the time), or the platform's feed about any order (its own ids and times).
The indicators read them from the store (``indicator_facts``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy.orm import Session

from lvyue.model import format_instant
from lvyue.store.audit import audit
from lvyue.store.tables import Complaint, Order, Review
from lvyue.workflows.actions.orders import load_order
from lvyue.workflows.machine import Conflict, Refusal

Feedback = Review | Complaint


def _when(order: Order, given: datetime | None, consumer: bool, now: datetime) -> datetime:
    if consumer and given is not None:
        raise Refusal("created_at: the service stamps a consumer's own post", field="created_at")
    at = given or now
    if at < order.pay_time:
        raise Refusal(f"created_at: {format_instant(at)} is before the order was paid",
                      field="created_at")  # fmt: skip
    return at


def post(
    session: Session,
    model: type[Feedback],
    values: dict[str, Any],
    *,
    given_id: str | None,
    given_at: datetime | None,
    consumer_id: str | None,
    actor: str,
    now: datetime,
) -> Feedback:
    """Record one review or complaint. ``consumer_id``: the consumer posting about its own
    order (another's answers as a missing one); None: the platform's feed. The feed's row
    sent again as recorded is the recorded row; with other values it is a conflict."""
    key = "review_id" if model is Review else "complaint_id"
    if consumer_id is not None and given_id is not None:
        raise Refusal(f"{key}: the service issues a consumer's ids", field=key)
    order = load_order(session, values["order_id"], consumer_id=consumer_id)
    if model is Review:
        _of_its_product(order, values.get("product_id"))
    at = _when(order, given_at, consumer_id is not None, now)
    row = model(**{key: given_id or _new_id(model)}, **values, merchant_id=order.merchant_id,
                created_at=at, created_by=actor)  # fmt: skip
    recorded = cast(Feedback | None, session.get(model, getattr(row, key)) if given_id else None)
    if recorded is not None:
        if any(getattr(recorded, k) != getattr(row, k) for k in (*values, "created_at")):
            raise Conflict(f"{key}: {given_id} is recorded with other values", field=key)
        return recorded
    if model is Review and consumer_id is not None:
        _one_review(session, order, actor)
    session.add(row)
    session.flush()
    audit(session, actor=actor, action=f"{model.__tablename__[:-1]}.create",
          entity=model.__tablename__, entity_id=getattr(row, key), merchant_id=order.merchant_id,
          clause="VF-8", detail={"order_id": order.order_id}, at=now)  # fmt: skip
    return row


def _of_its_product(order: Order, product_id: str | None) -> None:
    """A review is of its order's product: a consumer's naming another product of the shop
    would weigh on a product it did not buy; the feed's is a data error (its row refused)."""
    if product_id is not None and product_id != order.product_id:
        raise Refusal(f"product_id: {product_id!r} is not the product of order "
                      f"{order.order_id}", field="product_id")  # fmt: skip


def _one_review(session: Session, order: Order, actor: str) -> None:
    """A consumer reviews an order once (ours: the seeds say nothing; a second would weigh
    twice in the negative-review rate)."""
    found = (
        session.query(Review)
        .filter(Review.order_id == order.order_id, Review.created_by == actor)
        .first()
    )
    if found is not None:
        raise Conflict(f"order {order.order_id} is already reviewed ({found.review_id})",
                       field="order_id")  # fmt: skip


def _new_id(model: type[Feedback]) -> str:
    return f"{'RV' if model is Review else 'CP'}-{secrets.token_hex(6).upper()}"
