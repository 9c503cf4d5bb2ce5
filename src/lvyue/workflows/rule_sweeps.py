"""The worker records VF-8's and VF-9's graded measures by rule, on the service's own data.

Each rule is judged on its own period grid: period ends ``period_days`` apart (IND-4, CC-13)
from the rule's own start (VF-8: its festival window's start; VF-9: its announcement's
effective day). Once a day the sweep judges every period of the grid up to the last one that
has closed, with the functions ``GET /indicators/measures`` and ``GET /creators/measures``
use, and records the proposals with ``record_by_rule``. A period end is a fixed instant, so a
proposal keeps its start however often it is judged: recorded once, later extended or lifted
by rule, never re-imposed after an operator lifted it; one that the re-judgement (late data)
no longer proposes is withdrawn, lifted by rule at the run's instant. VF-8's festival orders
are judged while a rolling indicator period (IND-3, ``window_days``) still holds the window's
last orders; later periods would only count the same orders again (repetition, not new
conduct).
See docs/decisions/measures-recorded-by-worker.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

import lvyue.indicators as ind
from lvyue.indicators import creators
from lvyue.indicators.creators.judge import claim_thresholds
from lvyue.indicators.creators.run import in_force, measure_claims
from lvyue.indicators.ladder import CLAUSE as VF8
from lvyue.indicators.measures import measures_for
from lvyue.indicators.thresholds import thresholds_at
from lvyue.model.time import format_beijing
from lvyue.workflows import config
from lvyue.workflows.actions.creators import with_promotions
from lvyue.workflows.actions.indicator_facts import stored_tables
from lvyue.workflows.actions.rule_measures import (
    claim_parties,
    indicator_parties,
    record_claim_measures,
    record_indicator_measures,
)


@dataclass(frozen=True)
class Closed:
    """The last closed period end of a rule's grid, and how many period ends lead to it."""

    as_of: datetime
    periods: int


def closed(
    start: datetime, step: timedelta, now: datetime, last: datetime | None = None
) -> Closed | None:
    """The last period end ``start + k·step`` (k ≥ 1) at or before ``now`` (and ``last``)."""
    bound = now if last is None else min(now, last)
    k = (bound - start) // step
    return Closed(start + k * step, k) if k >= 1 else None


def festival_grid(now: datetime) -> Closed | None:
    """VF-8's closed periods: from its window's start, while IND-3's window holds its orders."""
    window = config.rules().clause(VF8).effective
    assert window.start is not None and window.end is not None  # festival() refuses otherwise
    th = thresholds_at(now)
    step = timedelta(days=th.setting("period_days"))
    return closed(window.start, step, now, window.end + timedelta(days=th.setting("window_days")))


def claims_grid(now: datetime) -> Closed | None:
    """VF-9's closed periods: from its announcement's effective day (it has no window)."""
    step = timedelta(days=claim_thresholds(now).period_days.value)
    return closed(in_force(config.rules()), step, now)


def indicator_measures(session: Session, now: datetime) -> dict[str, Any]:
    """VF-8 (指标异常): the merchants' measures at the last closed period, recorded by rule."""
    grid = festival_grid(now)
    if grid is None:
        return {"periods": 0}
    outcome = measures_for(ind.build(stored_tables(session)), grid.as_of, grid.periods)
    done = record_indicator_measures(
        session, outcome.proposals, outcome.ends, now, indicator_parties(outcome.merchants)
    )
    return {"period_end": format_beijing(grid.as_of)[:16], "periods": grid.periods,
            "proposed": len(outcome.proposals), "recorded": done.recorded,
            "withdrawn": done.withdrawn}  # fmt: skip


def claim_measures(session: Session, now: datetime) -> dict[str, Any]:
    """VF-9 (false logistics claims): creators' and merchants' measures, recorded by rule."""
    grid = claims_grid(now)
    if grid is None:
        return {"periods": 0}
    src = creators.build(with_promotions(session, stored_tables(session)))
    outcome = measure_claims(src, grid.as_of, grid.periods)
    judged = [p.end for p in outcome.periods]
    done = record_claim_measures(
        session, outcome.proposals, judged, now, claim_parties(outcome.periods)
    )
    return {"period_end": format_beijing(grid.as_of)[:16], "periods": grid.periods,
            "proposed": len(outcome.proposals), "recorded": done.recorded,
            "withdrawn": done.withdrawn}  # fmt: skip
