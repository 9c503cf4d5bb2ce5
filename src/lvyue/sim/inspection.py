"""BTAS inspections (二手 质检) of one chunk: the codes bound at shipping and the inspection
records, with failed, forged, reused and missing codes injected (BT-8, BT-10, BT-12)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.enums import Check, VerdictStatus
from lvyue.sim.labels import Labels
from lvyue.sim.orders import NONE, Columns
from lvyue.sim.seasons import DAY
from lvyue.sim.world import World, padded

CLEAN, FAIL, FORGED, MISSING, REUSED, CONTROL = 0, 1, 2, 3, 4, 5
SHARES = {FAIL: 0.03, FORGED: 0.02, MISSING: 0.02, REUSED: 0.03, CONTROL: 0.03}
UNBOUND_FAIL_SHARE = 0.02  # failed items never sold (records without an order)
NOTES = {
    FAIL: "injected: shipped with a failed inspection (BT-12)",
    FORGED: "injected: inspection code not in inspections (forged, BT-10)",
    MISSING: "injected: shipped without binding an inspection code (BT-8)",
    REUSED: "injected: inspection code already bound to an earlier order (BT-10)",
}


def inspections(
    world: World, rng: np.random.Generator, o: Columns, order_ids: pa.StringArray, labels: Labels
) -> tuple[pa.StringArray, pa.Table]:
    """The orders' ``inspection_code`` column and the ``inspections`` rows of this chunk."""
    n = len(o["pay"])
    rows = np.flatnonzero(world.category_btas[o["category"]] & (o["ship"] != NONE))
    k = len(rows)
    case = _cases(rng, k)
    own = padded("BTAS", o["index"][rows], 12)
    forged = padded("BTAS9", o["index"][rows], 11)
    source = _reuse_sources(o, rows, case)
    case[(case == REUSED) & (source < 0)] = CLEAN
    code = pc.if_else(pa.array(case == FORGED), forged, own)
    code = pc.if_else(pa.array(case == MISSING), pa.scalar(None, pa.string()), code)
    code = pc.if_else(pa.array(case == REUSED), own.take(pa.array(np.maximum(source, 0))), code)

    for c, note in NOTES.items():
        labels.add(rows[case == c], Check.INSPECTION, VerdictStatus.VIOLATED, note)
    labels.add(
        rows[case == CONTROL],
        Check.INSPECTION,
        VerdictStatus.OK,
        "control: passed inspection, code bound",
    )

    recorded = np.isin(case, (CLEAN, FAIL, CONTROL))
    inspected = o["ship"][rows] - rng.integers(DAY, 20 * DAY, k)  # BT-3 pre-inspection
    unbound = rng.random(k) < UNBOUND_FAIL_SHARE
    merchants = world.merchant_id.take(pa.array(o["merchant"][rows]))
    products = world.product_id.take(pa.array(o["product"][rows]))
    keep = pa.array(recorded)
    bound = pa.table(
        {
            "inspection_code": own.filter(keep),
            "merchant_id": merchants.filter(keep),
            "result": pa.array(np.where(case == FAIL, "fail", "pass")[recorded], pa.string()),
            "inspected_at": inspected[recorded],
            "item_id": products.filter(keep),
            "order_id": order_ids.take(pa.array(rows)).filter(keep),
        }
    )
    spare = pa.array(unbound)
    failed = pa.table(
        {
            "inspection_code": padded("BTAS8", o["index"][rows][unbound], 11),
            "merchant_id": merchants.filter(spare),
            "result": pa.array(["fail"] * int(unbound.sum()), pa.string()),
            "inspected_at": inspected[unbound] - DAY,
            "item_id": products.filter(spare),
            "order_id": pa.nulls(int(unbound.sum()), pa.string()),
        }
    )
    full = pa.nulls(n, pa.string())
    column = _scatter(full, rows, code, n)
    return column, pa.concat_tables([bound, failed])


def _cases(rng: np.random.Generator, k: int) -> np.ndarray:
    u = rng.random(k)
    case = np.zeros(k, np.int64)
    edge = 0.0
    for c, share in SHARES.items():
        case[(u >= edge) & (u < edge + share)] = c
        edge += share
    return case


def _reuse_sources(o: Columns, rows: np.ndarray, case: np.ndarray) -> np.ndarray:
    """For each row, the position (in ``rows``) of the same merchant's previous clean order
    whose code a REUSED row takes, or -1."""
    order = np.lexsort((o["ship"][rows], o["merchant"][rows]))
    merchant = o["merchant"][rows][order]
    prev_ok = np.zeros(len(order), bool)
    prev_ok[1:] = (merchant[1:] == merchant[:-1]) & (case[order][:-1] == CLEAN)
    source_sorted = np.where(prev_ok, np.roll(order, 1), -1)
    source = np.full(len(rows), -1)
    source[order] = source_sorted
    return np.where(case == REUSED, source, -1)


def _scatter(base: pa.Array, rows: np.ndarray, values: pa.Array, n: int) -> pa.StringArray:
    """``base`` with ``values`` placed at ``rows``."""
    position = np.full(n, len(values), np.int64)
    position[rows] = np.arange(len(rows))
    padded_values = pa.concat_arrays([values.cast(pa.string()), pa.nulls(1, pa.string())])
    return padded_values.take(pa.array(position))
