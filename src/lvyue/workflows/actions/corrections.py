"""The platform corrects a recorded fact (docs/decisions/ship-facts-provenance.md).

Re-sending an order never changes what was recorded (``store.corrections``); a correction is
the platform's: a new version of the order with who, when and why (``order.correct``), every
verdict it changes re-judged and audited (``verdict.rejudge``), and recorded violations the
engine no longer finds withdrawn (``violation.withdraw``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lvyue.engine.online import Resolves, evaluate_order
from lvyue.engine.verdict import Verdict
from lvyue.store.audit import audit
from lvyue.store.corrections import plain
from lvyue.store.refusals import AFTER_SALE_COLUMNS, ORDER_COLUMNS
from lvyue.store.tables import AfterSale, Order, Shipment
from lvyue.workflows.actions import violations
from lvyue.workflows.actions.stored_facts import order_facts
from lvyue.workflows.machine import Refusal

# What a correction may change of an order: its recorded columns, except whose it is, and
# its shipment's time; of an after-sales record: its recorded columns, except its keys.
ORDER_FIELDS = frozenset(ORDER_COLUMNS - {"merchant_id"})
SHIPMENT_FIELDS = frozenset({"ship_time"})
AFTER_SALE_FIELDS = frozenset(AFTER_SALE_COLUMNS - {"aftersale_id", "order_id"})


@dataclass(frozen=True)
class FactKind:
    """A kind of recorded fact the platform corrects: how its correction is audited."""

    action: str  # the audit action, e.g. ``order.correct``
    entity: str  # the audit entity
    fields: frozenset[str]  # what a correction may change


ORDER = FactKind("order.correct", "order", ORDER_FIELDS | SHIPMENT_FIELDS)
AFTER_SALE = FactKind("aftersale.correct", "after_sale", AFTER_SALE_FIELDS)
Record = Order | AfterSale


@dataclass
class Corrected:
    version: int
    changes: dict[str, list[Any]] = field(default_factory=dict)  # name -> [old, new]
    rejudged: list[dict[str, Any]] = field(default_factory=list)
    withdrawn: int = 0


def correct(
    session: Session,
    rules: Resolves,
    record: Record,
    changes: dict[str, Any],
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Corrected:
    """Apply ``changes`` to a recorded order (its columns, or its shipment's ``ship_time``) or
    after-sales record as version n+1, audited with who, when and why; the order's verdicts
    the correction moves re-judged and audited, its violations reconsidered."""
    # The record as last committed, locked until this correction commits (PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already serializes writers): two corrections at once were both version
    # 2, the second's "old" value the first's original (issue 12, corrections under the worker).
    session.refresh(record, with_for_update=True)
    kind, order = _kind(session, record)
    before = _judge(session, rules, order, now)
    applied = _apply(session, kind, record, changes)
    if not applied:
        raise Refusal("nothing to correct: every value is as recorded", field="changes")
    record.version += 1
    session.flush()
    result = Corrected(record.version, applied)
    about = {"order_id": order.order_id} if record is not order else {}
    audit(
        session,
        actor=actor,
        action=kind.action,
        entity=kind.entity,
        entity_id=_id(record),
        merchant_id=record.merchant_id,
        detail={**about, "changes": applied, "reason": reason, "version": record.version},
        at=now,
    )
    # the order's own correction needs no id: it is the order whose verdicts move
    label = f"{kind.action} {_id(record) + ' ' if about else ''}v{record.version}"
    _rejudge(session, rules, order, before, result, label, reason, actor, now)
    return result


def _kind(session: Session, record: Record) -> tuple[FactKind, Order]:
    """The record's kind and the order whose verdicts it moves."""
    if isinstance(record, Order):
        return ORDER, record
    order = session.get(Order, record.order_id)
    assert order is not None  # an after-sales record references its order
    return AFTER_SALE, order


def _id(record: Record) -> str:
    return record.order_id if isinstance(record, Order) else record.aftersale_id


def _rejudge(
    session: Session,
    rules: Resolves,
    order: Order,
    before: dict[tuple[str, str], Verdict],
    result: Corrected,
    label: str,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """Audit every verdict of ``order`` the correction moved (``verdict.rejudge``) and withdraw
    the recorded violations the engine no longer finds."""
    after = _judge(session, rules, order, now)
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if _status(old) == _status(new) and _clauses(old) == _clauses(new):
            continue
        change = {
            "check": key[1],
            "aftersale_id": key[0],
            "from": _status(old),
            "to": _status(new),
            "from_clauses": _clauses(old),
            "version": result.version,
            "correction": label,
        }
        result.rejudged.append(change)
        audit(
            session,
            actor=actor,
            action="verdict.rejudge",
            entity="order",
            entity_id=order.order_id,
            merchant_id=order.merchant_id,
            clause=(_clauses(new) or None) and _clauses(new)[:64],
            detail={**change, "reason": reason},
            at=now,
        )
    result.withdrawn = violations.reconsider(
        session, rules, [order.order_id], clause=label, now=now
    )


def _apply(
    session: Session, kind: FactKind, record: Record, changes: dict[str, Any]
) -> dict[str, list[Any]]:
    applied: dict[str, list[Any]] = {}
    for name, value in changes.items():
        if name not in kind.fields:
            raise Refusal(f"{name} is not a correctable fact", field=name)
        target: Any = record
        if name in SHIPMENT_FIELDS:
            target = session.get(Shipment, record.order_id)
            if target is None:
                raise Refusal(f"order {record.order_id} has not shipped", field=name)
        old = getattr(target, name)
        if old != value:
            setattr(target, name, value)
            applied[name] = [plain(old), plain(value)]
            if name == "ship_time":
                target.ship_time_source = "platform"  # the platform vouches for it now
    return applied


def _judge(
    session: Session, rules: Resolves, order: Order, now: datetime
) -> dict[tuple[str, str], Verdict]:
    session.flush()
    session.expire(order)
    return {
        (v.aftersale_id, v.check.value): v
        for v in evaluate_order(order_facts(session, order), now, rules)
    }


def _status(verdict: Verdict | None) -> str | None:
    return None if verdict is None else verdict.status.value


def _clauses(verdict: Verdict | None) -> str:
    return "" if verdict is None else verdict.clauses
