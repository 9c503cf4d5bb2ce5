"""Reports (报备, SF-8) of one chunk: filed for some of the injected late shipments (approved,
rejected or pending; some approved ones set a new deadline) and for a few other orders."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lvyue.model.enums import Check, ReportStatus, ReportType, VerdictStatus
from lvyue.sim import data
from lvyue.sim.labels import Labels
from lvyue.sim.orders import LATE_SHIP, NONE, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import World

TYPES = tuple(ReportType)
STATUSES = tuple(ReportStatus)
APPROVED, REJECTED, PENDING = (STATUSES.index(s) for s in ReportStatus)
BACKGROUND_SHARE = 0.002  # of shipped orders, covered by a report though not late
LATE_NOTE = "injected: shipped >= 1 day after the most generous ship deadline of any rule"


def reports_table(
    world: World,
    rng: np.random.Generator,
    o: Columns,
    order_ids: pa.StringArray,
    chunk: int,
    labels: Labels,
) -> pa.Table:
    late = np.flatnonzero(o["injection"] == LATE_SHIP)
    u = rng.random(len(late))
    # [0, .15) approved; [.15, .25) approved with a new deadline; [.25, .35) rejected;
    # [.35, .5) pending (not labelled: the verdict waits on the review); else no report.
    status = np.select([u < 0.25, u < 0.35, u < 0.5], [APPROVED, REJECTED, PENDING], -1)
    renewed = (u >= 0.15) & (u < 0.25)
    labels.add(
        late[(status == -1) | (status == REJECTED)],
        Check.SHIP_DEADLINE,
        VerdictStatus.VIOLATED,
        LATE_NOTE,
    )
    labels.add(
        late[(status == APPROVED) & ~renewed],
        Check.SHIP_DEADLINE,
        VerdictStatus.EXEMPTED,
        LATE_NOTE + "; an approved report waives it (SF-8)",
    )
    labels.add(
        late[renewed],
        Check.SHIP_DEADLINE,
        VerdictStatus.OK,
        LATE_NOTE + "; an approved report sets a later deadline it meets (SF-8)",
    )
    filed = status >= 0
    late, status, renewed = late[filed], status[filed], renewed[filed]
    new_deadline = np.where(
        renewed, o["ship"][late] + rng.integers(HOUR, 48 * HOUR, len(late)), NONE
    )

    labelled = np.zeros(len(o["pay"]), bool)
    labelled[np.concatenate(labels.rows)] = True  # a report would change their verdicts
    shipped = np.flatnonzero((o["ship"] != NONE) & (o["injection"] != LATE_SHIP) & ~labelled)
    extra = shipped[rng.random(len(shipped)) < BACKGROUND_SHARE]
    extra = extra[np.argsort(o["merchant"][extra], kind="stable")]
    group = _groups(o["merchant"][extra], size=3)
    first = np.flatnonzero(np.diff(group, prepend=-1) != 0)
    extra_status = rng.choice(len(STATUSES), len(first), p=[0.6, 0.25, 0.15])

    heads = np.concatenate([late, extra[first]])
    members = np.concatenate([late, extra])
    offsets = (
        np.concatenate([np.arange(len(late) + 1), len(late) + first[1:], [len(members)]])
        if len(first)
        else np.arange(len(late) + 1)
    )
    order_lists = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), order_ids.take(pa.array(members))
    )
    k = len(heads)
    kind = rng.integers(0, len(TYPES), k)
    provinces = pa.array(data.cities().province, pa.string()).take(pa.array(o["dest"][heads]))
    period_start = o["pay"][heads] - o["pay"][heads] % DAY
    force = kind == TYPES.index(ReportType.FORCE_MAJEURE)
    return pa.table(
        {
            "report_id": pa.compute.binary_join_element_wise(
                f"BB{chunk:05d}",
                pa.compute.utf8_lpad(
                    pa.compute.cast(pa.array(np.arange(k)), pa.string()), width=7, padding="0"
                ),
                "",
            ),
            "merchant_id": world.merchant_id.take(pa.array(o["merchant"][heads])),
            "type": pa.array([t.value for t in TYPES], pa.string()).take(pa.array(kind)),
            "status": pa.array([s.value for s in STATUSES], pa.string()).take(
                pa.array(np.concatenate([status, extra_status]))
            ),
            "order_ids": pa.compute.binary_join(order_lists, ";"),  # lists are ;-separated
            "new_deadline": np.concatenate([new_deadline, np.full(len(first), NONE)]),
            "period_start": np.where(force, period_start, NONE),
            "period_end": np.where(force, period_start + 3 * DAY - 1, NONE),
            "regions": pa.compute.if_else(pa.array(force), provinces, pa.scalar(None, pa.string())),
        }
    )


def _groups(merchant: np.ndarray, size: int) -> np.ndarray:
    """Consecutive runs of the same merchant cut into groups of at most ``size``."""
    if len(merchant) == 0:
        return np.zeros(0, np.int64)
    new_run = np.diff(merchant, prepend=merchant[0] - 1) != 0
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(merchant)), 0))
    position = np.arange(len(merchant)) - run_start
    return np.cumsum(new_run | (position % size == 0)) - 1
