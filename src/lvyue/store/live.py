"""Reading the live verdicts (``live_verdicts``, kept by the worker): the at-risk list, the
counts per status, one order's verdicts, the verdicts still current for a page of orders,
how far behind the worker is.

One definition of "at risk" (即将超时): the engine's — not done, deadline ahead, within the
horizon (``engine.online.DEFAULT_HORIZON``, passed in: the store does not import the engine)
— judged at read time from the stored deadline: a verdict stored ``pending`` whose deadline
has come within the horizon since is at risk now, whether or not the worker has judged it
again (pending and at risk differ by time alone, ``engine.online._timed``); a deadline that
has passed is not listed (a violation the worker is about to record). Facts written since
the last judgement are the worker's: a write marks the order and it is judged within a round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, literal, or_, select
from sqlalchemy.orm import Session

from lvyue.store.live_tables import LiveMark, LiveVerdict

AT_RISK = "at_risk"


OPEN = ("pending", AT_RISK)  # not done, deadline ahead: at risk once within the horizon
_SHOWN = [c for c in LiveVerdict.__table__.columns if c.name != "status"]


def _at_risk_query(
    merchant_id: str | None, now: datetime, horizon: timedelta, within: timedelta | None
) -> Select:  # type: ignore[type-arg]
    window = horizon if within is None else min(horizon, within)
    query = select(*_SHOWN, literal(AT_RISK).label("status")).where(
        LiveVerdict.status.in_(OPEN),
        LiveVerdict.deadline > now,
        LiveVerdict.deadline <= now + window,
    )
    if merchant_id is not None:
        query = query.where(LiveVerdict.merchant_id == merchant_id)
    return query


def at_risk(
    session: Session,
    merchant_id: str | None,
    now: datetime,
    *,
    horizon: timedelta,
    within: timedelta | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Row[Any]], int]:
    """A page of the verdicts at risk as of ``now`` (one merchant's, or all for None),
    soonest deadline first, and how many there are in all. Plain rows (a page only displays
    them), each with status ``at_risk``."""
    query = _at_risk_query(merchant_id, now, horizon, within)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(
        LiveVerdict.deadline, LiveVerdict.order_id, LiveVerdict.aftersale_id, LiveVerdict.check
    )
    return list(session.execute(page.limit(limit).offset(offset))), total


def status_counts(session: Session, merchant_id: str | None) -> dict[str, int]:
    """Live verdicts per status (one merchant's, or all), e.g. for a dashboard."""
    query = select(LiveVerdict.status, func.count()).group_by(LiveVerdict.status)
    if merchant_id is not None:
        query = query.where(LiveVerdict.merchant_id == merchant_id)
    return {status: count for status, count in session.execute(query)}


def verdicts_of(session: Session, order_id: str) -> list[LiveVerdict]:
    """One order's live verdicts (the caller checks that the order may be seen)."""
    query = select(LiveVerdict).where(LiveVerdict.order_id == order_id)
    return list(session.scalars(query.order_by(LiveVerdict.aftersale_id, LiveVerdict.check)))


def waiting(now: datetime) -> ColumnElement[bool]:
    """Marks whose order's live verdicts may not be the evaluator's answer as of ``now``:
    written to (dirty), due by ``now``, or being judged (leased to a worker's round, which
    cleared ``dirty`` when it claimed the order)."""
    return or_(LiveMark.dirty.is_(True), LiveMark.due_at <= now, LiveMark.claimed_by.is_not(None))


def current(session: Session, order_ids: Sequence[str], now: datetime) -> dict[str, list[Row[Any]]]:
    """The live verdicts of those of ``order_ids`` that are still the evaluator's answer as of
    ``now``, by order: judged as of no later than ``now``, and no mark dirty (every write of
    the order's facts marks it, in the write's transaction) or due by ``now`` (time alone
    changes no verdict before its mark's ``due_at``). An order left out — never judged, or
    waiting for the worker — is for the caller to judge."""
    if not order_ids:  # an empty IN scans the whole table on SQLite
        return {}
    stale = set(
        session.scalars(
            select(LiveMark.order_id).where(LiveMark.order_id.in_(order_ids), waiting(now))
        )
    )
    # Plain rows, not ORM objects: a page reads hundreds and only displays them.
    query = select(*LiveVerdict.__table__.columns).where(LiveVerdict.order_id.in_(order_ids))
    found: dict[str, list[Row[Any]]] = {}
    # sorted here, not by the database: a collation may order "_" apart from the evaluator
    for row in sorted(session.execute(query), key=lambda r: (r.aftersale_id, r.check)):
        found.setdefault(row.order_id, []).append(row)
    judged_later = {row.order_id for rows in found.values() for row in rows if row.as_of > now}
    return {k: rows for k, rows in found.items() if k not in stale | judged_later}


@dataclass(frozen=True)
class Backlog:
    """How far behind the worker is: orders waiting to be judged again after a write."""

    dirty: int  # written to and not judged since (or being judged)
    oldest: datetime | None  # the earliest write still waiting (real time)


def backlog(session: Session) -> Backlog:
    dirty, oldest = session.execute(
        select(func.count(), func.min(LiveMark.marked_at)).where(
            or_(LiveMark.dirty.is_(True), LiveMark.claimed_by.is_not(None))
        )
    ).one()
    return Backlog(int(dirty), oldest)
