"""The rulebook's parameter table cut per parameter for the batch joins (expressions._resolve)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lvyue.engine import expressions as ex
from lvyue.rulebook.context import FLAGS, Clock

VALUE_COLUMNS = ("value_kind", "value_seconds", "value_anchor", "value_instant", "value_bool",
                 "value_modes", "clause_id")  # fmt: skip


_SLICED: list[tuple[pa.Table, dict[str, ex.ParamSlice]]] = []  # the last table sliced


def parameter_slices(params: pa.Table) -> dict[str, ex.ParamSlice]:
    """The parameter table cut per parameter the checks read (ex.PARAMETERS), keeping only the
    columns its rows vary on.

    A flag no clause of the parameter scopes on is null (either value) in all its rows, and
    one it scopes on may still not change the answer (equal rows for both values); dropping
    both (and the clocks no row bounds) keeps the join a small equi-join, and the same.
    """
    for table, done in _SLICED:
        if table is params:  # a Rulebook builds its table once: slice it once too
            return dict(done)
    out = _slice(params)
    _SLICED[:] = [(params, out)]
    return dict(out)


def _slice(params: pa.Table) -> dict[str, ex.ParamSlice]:
    out: dict[str, ex.ParamSlice] = {}
    params = params.filter(pc.is_in(params["parameter"], pa.array(ex.PARAMETERS)))
    for parameter in sorted(pc.unique(params["parameter"]).to_pylist()):
        rows = params.filter(pc.equal(params["parameter"], parameter))
        clocks = [
            c
            for c in Clock
            if rows[f"{c.value}_from"].null_count < rows.num_rows
            or rows[f"{c.value}_to"].null_count < rows.num_rows
        ]
        bounds = [f"{c.value}_{side}" for c in clocks for side in ("from", "to")]
        keep = ["merchant_type", "category_key", "ship_mode", *bounds, *VALUE_COLUMNS]
        flags = [f for f in FLAGS if rows[f"flag_{f}"].null_count < rows.num_rows]
        used = []
        for flag in flags:
            others = [f"flag_{f}" for f in flags if f != flag]
            if not _flag_free(rows, f"flag_{flag}", [*keep, *others]):
                used.append(flag)
            else:
                rows = rows.filter(pc.invert(rows[f"flag_{flag}"])).drop_columns(f"flag_{flag}")
                flags = [f for f in flags if f != flag]
        table = _open_sides(rows.select([*keep, *(f"flag_{f}" for f in used)]), bounds)
        out[parameter] = ex.ParamSlice(table, frozenset(clocks), tuple(used))
    return out


def _open_sides(table: pa.Table, bounds: list[str]) -> pa.Table:
    """Null (open) bounds as ex.OPEN_FROM / ex.OPEN_TO (see expressions._resolve)."""
    for name in bounds:
        fill = ex.OPEN_FROM if name.endswith("_from") else ex.OPEN_TO
        filled = pc.fill_null(table[name], pa.scalar(fill, pa.int64()))
        table = table.set_column(table.schema.get_field_index(name), name, filled)
    return table


def _flag_free(rows: pa.Table, flag: str, columns: list[str]) -> bool:
    """True when the rows with the flag false and true are the same rows otherwise."""
    off = rows.filter(pc.invert(rows[flag])).select(columns)
    on = rows.filter(rows[flag]).select(columns)
    if off.num_rows != on.num_rows:
        return False
    order = [(c, "ascending") for c in columns]
    return bool(off.sort_by(order).equals(on.sort_by(order)))
