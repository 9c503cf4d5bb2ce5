"""``INSERT … ON CONFLICT DO NOTHING`` on the natural key, on PostgreSQL and SQLite alike:
a concurrent insert of the same key is not an error, the row simply exists afterwards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lvyue.store.db import Base


def insert_if_new(
    session: Session, model: type[Base], values: Mapping[str, Any], key: Sequence[str]
) -> bool:
    """Insert one row of ``model`` unless its ``key`` is taken (stored, or inserted meanwhile
    by a concurrent transaction, which this waits for). True if it was inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=key)
        .returning(*(table.c[name] for name in key))  # rowcount is not reliable on every driver
    )
    # values as parameters: one cached statement, and the dirty marks read them (store.marks)
    return session.execute(statement, dict(values)).first() is not None
