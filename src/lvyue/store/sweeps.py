"""Running the registered sweeps once per period, safely from several workers at once.

A sweep's claim (``sweep_claims``: primary key sweep + period) is inserted in the same
transaction as the sweep's writes. A second worker inserting the same claim waits for the
first (PostgreSQL: the unique index; SQLite: the write lock) and then fails on the key, so it
skips; a sweep that crashes rolls back its claim and is retried next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from lvyue.model import to_beijing
from lvyue.model.clock import business_now
from lvyue.store.db import SessionFactory
from lvyue.store.hooks import Every, Sweep, sweeps
from lvyue.store.tables import SweepClaim, utcnow

_log = logging.getLogger(__name__)


def period_of(moment: datetime, every: Every) -> str:
    """The period an instant falls in, in Beijing time (business days and weeks are local)."""
    local = to_beijing(moment)
    if every == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.strftime(
        {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}[every]
    )


@dataclass(frozen=True)
class SweepRun:
    sweep: str
    period: str
    ran: bool  # False: another run already claimed this period, or it failed
    result: dict[str, Any] | None = None
    error: str | None = None  # the sweep failed: nothing of it was kept, it runs again next time


def run_sweep(factory: SessionFactory, sweep: Sweep, now: datetime, worker: str) -> SweepRun:
    period = period_of(now, sweep.every)
    session = factory()
    try:
        session.add(SweepClaim(sweep=sweep.name, period=period, claimed_by=worker))
        session.flush()
        result = sweep.run(session, now)
        claim = session.get(SweepClaim, (sweep.name, period))
        assert claim is not None
        claim.finished_at = utcnow()
        claim.result = result
        session.commit()
        return SweepRun(sweep.name, period, True, result)
    except IntegrityError:
        session.rollback()
        return SweepRun(sweep.name, period, False)
    except Exception as error:  # one broken sweep must not stop the others
        session.rollback()
        _log.exception("sweep %s failed for %s", sweep.name, period)
        return SweepRun(sweep.name, period, False, error=f"{error.__class__.__name__}: {error}")
    finally:
        session.close()


def run_due(
    factory: SessionFactory, now: datetime | None = None, worker: str = "worker"
) -> list[SweepRun]:
    """Run every registered sweep for the current period (at most once each, across workers)."""
    moment = now or business_now()
    return [run_sweep(factory, sweep, moment, worker) for sweep in sweeps()]
