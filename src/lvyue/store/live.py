"""Reading the live verdicts (``live_verdicts``, kept by the worker): the at-risk list, the
counts per status, one order's verdicts, how far behind the worker is.

One definition of "at risk" (即将超时): the engine's — not done, deadline ahead, within the
horizon (``engine.online.DEFAULT_HORIZON``) as of when the order was last judged; a deadline
that has passed since is not listed (it is a violation the worker is about to record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from lvyue.store.live_tables import LiveMark, LiveVerdict

AT_RISK = "at_risk"


def _at_risk_query(merchant_id: str | None, now: datetime, within: timedelta | None) -> Select:  # type: ignore[type-arg]
    query = select(LiveVerdict).where(LiveVerdict.status == AT_RISK, LiveVerdict.deadline > now)
    if within is not None:
        query = query.where(LiveVerdict.deadline <= now + within)
    if merchant_id is not None:
        query = query.where(LiveVerdict.merchant_id == merchant_id)
    return query


def at_risk(
    session: Session,
    merchant_id: str | None,
    now: datetime,
    *,
    within: timedelta | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[LiveVerdict], int]:
    """A page of at-risk verdicts (one merchant's, or all for None), soonest deadline first,
    and how many there are in all."""
    query = _at_risk_query(merchant_id, now, within)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(
        LiveVerdict.deadline, LiveVerdict.order_id, LiveVerdict.aftersale_id, LiveVerdict.check
    )
    return list(session.scalars(page.limit(limit).offset(offset))), total


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


@dataclass(frozen=True)
class Backlog:
    """How far behind the worker is: orders waiting to be judged again after a write."""

    dirty: int
    oldest: datetime | None  # the earliest write still waiting (real time)


def backlog(session: Session) -> Backlog:
    dirty, oldest = session.execute(
        select(func.count(), func.min(LiveMark.marked_at)).where(LiveMark.dirty.is_(True))
    ).one()
    return Backlog(int(dirty), oldest)
