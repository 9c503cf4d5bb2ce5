"""Reports (报备, SF-8) of one chunk: filed for some of the injected late shipments (approved,
rejected or pending; some approved ones set a new deadline) and for a few other orders."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.enums import Check, ReportStatus, ReportType, VerdictStatus
from lvyue.sim import data
from lvyue.sim.labels import Labels
from lvyue.sim.orders import LATE_SHIP, NONE, Columns
from lvyue.sim.seasons import DAY, HOUR
from lvyue.sim.world import World, padded

TYPES = tuple(ReportType)
STATUSES = tuple(ReportStatus)
APPROVED, REJECTED, PENDING = (STATUSES.index(s) for s in ReportStatus)
NO_REPORT = -1
BACKGROUND_SHARE = 0.002  # of shipped, unlabelled orders: covered by a report anyway
BACKGROUND_STATUS = (0.6, 0.25, 0.15)  # approved, rejected, pending
LATE_NOTE = "injected: shipped >= 1 day after the most generous ship deadline of any rule"
BEIJING_OFFSET = 8 * 3600


def reports_table(
    world: World,
    rng: np.random.Generator,
    o: Columns,
    order_ids: pa.StringArray,
    chunk: int,
    labels: Labels,
) -> pa.Table:
    """One report per reported late shipment, then background reports of 1-3 orders."""
    late, status, new_deadline = _late_reports(rng, o, labels)
    members, first = _background(rng, o, labels)
    extra_status = rng.choice(len(STATUSES), len(first), p=BACKGROUND_STATUS)
    heads = np.concatenate([late, members[first]])
    offsets = np.concatenate([np.arange(len(late)), len(late) + first, [len(late) + len(members)]])
    covered = order_ids.take(pa.array(np.concatenate([late, members])))
    order_lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), covered)
    k = len(heads)
    kind = rng.integers(0, len(TYPES), k)
    force = kind == TYPES.index(ReportType.FORCE_MAJEURE)
    provinces = pa.array(data.cities().province, pa.string()).take(pa.array(o["dest"][heads]))
    pay = o["pay"][heads]
    day_start = pay - (pay + BEIJING_OFFSET) % DAY  # the Beijing day of payment
    return pa.table(
        {
            "report_id": padded(f"BB{chunk:05d}", np.arange(k, dtype=np.int64), 7),
            "merchant_id": world.merchant_id.take(pa.array(o["merchant"][heads])),
            "type": pa.array([t.value for t in TYPES], pa.string()).take(pa.array(kind)),
            "status": pa.array([s.value for s in STATUSES], pa.string()).take(
                pa.array(np.concatenate([status, extra_status]))
            ),
            "order_ids": pc.binary_join(order_lists, ";"),  # lists are ;-separated
            "new_deadline": np.concatenate([new_deadline, np.full(len(first), NONE)]),
            "period_start": np.where(force, day_start, NONE),
            "period_end": np.where(force, day_start + 3 * DAY - 1, NONE),
            "regions": pc.if_else(pa.array(force), provinces, pa.scalar(None, pa.string())),
        }
    )


def _late_reports(
    rng: np.random.Generator, o: Columns, labels: Labels
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels every injected late shipment; returns (rows, status, new_deadline) of those
    with a report: 15 % approved, 10 % approved with a new deadline, 10 % rejected,
    15 % pending (not labelled: the verdict waits on the review), 50 % none."""
    late = np.flatnonzero(o["injection"] == LATE_SHIP)
    u = rng.random(len(late))
    status = np.select([u < 0.25, u < 0.35, u < 0.5], [APPROVED, REJECTED, PENDING], NO_REPORT)
    renewed = (u >= 0.15) & (u < 0.25)
    violated = late[(status == NO_REPORT) | (status == REJECTED)]
    labels.add(violated, Check.SHIP_DEADLINE, VerdictStatus.VIOLATED, LATE_NOTE)
    waived = late[(status == APPROVED) & ~renewed]
    note = LATE_NOTE + "; an approved report waives it (SF-8)"
    labels.add(waived, Check.SHIP_DEADLINE, VerdictStatus.EXEMPTED, note)
    note = LATE_NOTE + "; an approved report sets a later deadline it meets (SF-8)"
    labels.add(late[renewed], Check.SHIP_DEADLINE, VerdictStatus.OK, note)
    filed = status != NO_REPORT
    late, status, renewed = late[filed], status[filed], renewed[filed]
    later = o["ship"][late] + rng.integers(HOUR, 48 * HOUR, len(late))
    return late, status, np.where(renewed, later, NONE)


def _background(
    rng: np.random.Generator, o: Columns, labels: Labels
) -> tuple[np.ndarray, np.ndarray]:
    """(rows sorted by merchant, start of each report in them): runs of the same merchant cut
    into reports of at most 3 orders. Labelled orders are left alone (a report would change
    their expected verdicts)."""
    labelled = np.zeros(len(o["pay"]), bool)
    labelled[np.concatenate(labels.rows)] = True
    shipped = np.flatnonzero((o["ship"] != NONE) & ~labelled & (o["injection"] != LATE_SHIP))
    rows = shipped[rng.random(len(shipped)) < BACKGROUND_SHARE]
    rows = rows[np.argsort(o["merchant"][rows], kind="stable")]
    merchant = o["merchant"][rows]
    new_run = np.diff(merchant, prepend=-1) != 0
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(rows)), 0))
    starts = new_run | ((np.arange(len(rows)) - run_start) % 3 == 0)
    return rows, np.flatnonzero(starts)
