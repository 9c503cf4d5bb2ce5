"""Applying a step to a stored row: compare-and-set on ``version``, plus its audit entry."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lvyue.store.audit import audit
from lvyue.workflows.machine import Conflict, Machine, Step


class Stateful(Protocol):
    state: str
    version: int


class NotFound(LookupError):
    """No such row for this caller (HTTP 404; also used for other tenants' rows)."""


Row = TypeVar("Row")


def merchant_rows(
    session: Session, table: type[Row], merchant_id: str | None, key: Any
) -> list[Row]:
    """The rows of ``table`` in ``key`` order: one merchant's, or every merchant's (None)."""
    query = select(table).order_by(key)
    if merchant_id is not None:
        query = query.where(table.merchant_id == merchant_id)  # type: ignore[attr-defined]
    return list(session.scalars(query))


def fire(
    session: Session,
    machine: Machine,
    row: Any,
    event: str,
    *,
    subject_id: str,
    actor: str,
    merchant_id: str | None,
    at: Any,
    clause: str | None = None,
    detail: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> Step:
    """Fire ``event`` on ``row`` and store the result, or raise ``Conflict``.

    The UPDATE only matches the version that was read, so a concurrent step (a second
    worker, a double click) makes this one fail instead of applying twice.
    """
    step = machine.fire(
        row.state,
        event,
        subject_id=subject_id,
        actor=actor,
        at=at,
        clause=clause,
        detail=_describe(detail),
    )
    table = type(row)
    key = table.__mapper__.primary_key[0]
    values = {"state": step.target, "version": row.version + 1, **(changes or {})}
    result = session.execute(
        update(table)
        .where(key == getattr(row, key.key), table.version == row.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise Conflict(f"{machine.name} {subject_id} changed meanwhile; reload and retry")
    for name, value in values.items():
        set_committed_value(row, name, value)
    audit(
        session,
        actor=actor,
        action=f"{machine.name}.{event}",
        entity=machine.name,
        entity_id=subject_id,
        merchant_id=merchant_id,
        clause=step.clause,
        detail={"from": step.source, "to": step.target, **(detail or {})},
        at=step.at,
    )
    return step


def _describe(detail: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (detail or {}).items())
