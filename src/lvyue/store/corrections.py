"""Recorded order facts are never overwritten silently (docs/decisions/ship-facts-provenance.md).

Re-sending an order (JSON, CSV, bulk) may only fill what had not happened yet — the receipt
confirmation, the product — and each fill is audited (``order.update``). A different value for
anything already recorded (pay_time, category, mode, the promise, a flag column) is refused:
a correction is the platform's, with a reason, a new version and its verdicts re-judged
(``POST /orders/{id}/corrections``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lvyue.model import format_instant
from lvyue.store.audit import audit
from lvyue.store.refusals import RowRejected
from lvyue.store.tables import AfterSale, Order

# Columns a re-sent order may fill while empty: events after the order was placed.
FILLABLE = frozenset({"confirmed_receipt_time", "product_id"})
# Columns a re-sent after-sales record may fill while empty: the steps after the request
# (its type and created_at are the record from its first posting).
AFTER_SALE_FILLABLE = frozenset(
    {
        "merchant_handled_at",
        "merchant_decision",
        "return_shipped_at",
        "merchant_received_at",
        "return_signed_at",
        "refunded_at",
    }
)
CORRECT_VIA = "POST /orders/{id}/corrections (the platform's, with a reason)"


def plain(value: Any) -> Any:
    """A value as the audit log keeps it (JSON)."""
    return format_instant(value) if isinstance(value, datetime) else value


def resend_order(
    session: Session, order: Order, values: dict[str, Any], extra: dict[str, Any], actor: str
) -> bool:
    """Apply a re-sent order row to ``order``: True if it filled anything (audited); raises
    RowRejected (conflict) when it would change a recorded fact."""
    filled = _fill(order, values, FILLABLE, lambda name, old: _rewrite(order, name, old))
    for name in (k for k, v in extra.items() if order.extra.get(k) != v):
        raise _rewrite(order, name, order.extra.get(name))
    if not filled:
        return False
    for name, value in filled.items():
        setattr(order, name, value)
    detail = {"filled": {k: plain(v) for k, v in filled.items()}, "version": order.version}
    audit(session, actor=actor, action="order.update", entity="order",
          entity_id=order.order_id, merchant_id=order.merchant_id, detail=detail)  # fmt: skip
    return True


def _rewrite(order: Order, name: str, old: Any) -> RowRejected:
    recorded = "not recorded" if old is None else f"recorded as {plain(old)!r}"
    return RowRejected(
        f"{name}: order {order.order_id!r} has it {recorded}; a recorded fact is not changed "
        f"by re-sending the order, it is corrected through {CORRECT_VIA}",
        "conflict",
    )


def resend_after_sale(
    session: Session, record: AfterSale, values: dict[str, Any], actor: str
) -> bool:
    """Apply a re-sent after-sales row to ``record`` with the rules of ``resend_order``: only
    steps not yet recorded are filled (audited ``aftersale.update``); a different value for a
    recorded one is refused (conflict) — a merchant never moves the times it is judged on."""

    def refuse(name: str, old: Any) -> RowRejected:
        recorded = "not recorded" if old is None else f"recorded as {plain(old)!r}"
        return RowRejected(
            f"{name}: after-sales {record.aftersale_id!r} has it {recorded}; a recorded "
            "fact is not changed by re-sending the record",
            "conflict",
        )

    filled = _fill(record, values, AFTER_SALE_FILLABLE, refuse)
    if not filled:
        return False
    for name, value in filled.items():
        setattr(record, name, value)
    detail = {"order_id": record.order_id, "filled": {k: plain(v) for k, v in filled.items()}}
    audit(session, actor=actor, action="aftersale.update", entity="after_sale",
          entity_id=record.aftersale_id, merchant_id=record.merchant_id, detail=detail)  # fmt: skip
    return True


def _fill(
    record: Order | AfterSale,
    values: dict[str, Any],
    fillable: frozenset[str],
    refuse: Callable[[str, Any], RowRejected],
) -> dict[str, Any]:
    """What a re-send may fill on ``record`` — a ``fillable`` column still empty (set by the
    caller once every check passed); raise ``refuse(name, recorded)`` for a value that would
    change a recorded one."""
    filled: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(record, name)
        if value is None or old == value:
            continue  # an empty cell never erases what was recorded
        if name not in fillable or old is not None:
            raise refuse(name, old)
        filled[name] = value
    return filled
