"""Transactions that lost a race are run again, not answered with a 500.

Two requests writing the same natural key at once: on PostgreSQL the second waits for the
first and then fails with a unique violation (or, under stricter isolation, a serialization
failure or deadlock); on SQLite it may find the database locked. Rolled back and run again,
it sees the first one's row and takes the path of a repeat (unchanged, or a refusal).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

T = TypeVar("T")
ATTEMPTS = 8
_PG_RACES = {"23505", "40001", "40P01"}  # unique violation, serialization failure, deadlock


def lost_a_race(error: DBAPIError) -> bool:
    """True if running the transaction again may succeed (a concurrent writer got there first)."""
    code = getattr(error.orig, "sqlstate", None)
    if code is not None:
        return code in _PG_RACES
    text = str(error.orig).lower()
    if isinstance(error, IntegrityError):
        return "unique constraint failed" in text
    return isinstance(error, OperationalError) and "database is locked" in text


def retrying(session: Session, transaction: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """``transaction()`` (which commits), run again after a rollback when it lost a race."""
    for attempt in range(1, attempts + 1):
        try:
            return transaction()
        except DBAPIError as error:
            session.rollback()
            if attempt == attempts or not lost_a_race(error):
                raise
            time.sleep(random.uniform(0, 0.005 * 2**attempt))  # de-synchronise the losers
    raise AssertionError("unreachable")
