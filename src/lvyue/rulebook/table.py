"""Compilation of the rulebook into disjoint cells: the parameter table and the static check.

Both enumerate the same grid — the discrete scope atoms (merchant type × category key ×
ship mode × flags) × the intervals between window breakpoints on each clock — and ask the
resolver itself for every cell, so there is one definition of the rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import epoch_seconds, format_beijing
from lvyue.rulebook.context import FLAGS, Clock, OrderContext
from lvyue.rulebook.errors import ConflictError
from lvyue.rulebook.resolver import Answer, Resolver
from lvyue.rulebook.schema import Clause
from lvyue.rulebook.values import Duration, Instant, format_value

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Conflict:
    """Two clauses that can both decide a parameter for some order with different values."""

    parameter: str
    clause_ids: tuple[str, str]
    detail: str
    example: str  # one order (scope atom and clock instants) where they clash

    def __str__(self) -> str:
        ids = " vs ".join(self.clause_ids)
        return f"{self.parameter}: {ids} ({self.detail}) e.g. {self.example}"


@dataclass(frozen=True)
class Cell:
    """One region of order space: a scope atom and a half-open interval per relevant clock."""

    parameter: str
    merchant_types: tuple[MerchantType, ...]
    category_keys: tuple[str, ...]
    ship_modes: tuple[ShipMode, ...]
    flags: dict[str, bool]  # the flags the parameter's clauses scope on; the rest: either
    bounds: dict[Clock, tuple[datetime | None, datetime | None]]
    ctx: OrderContext


def cells(
    parameter: str, clauses: Sequence[Clause], category_keys: Sequence[str]
) -> Iterator[Cell]:
    """Every cell of one parameter; dimensions no clause scopes on are left whole."""
    scoped_mt = any(c.scope.merchant_types is not None for c in clauses)
    scoped_cat = any(c.scope.categories is not None for c in clauses)
    scoped_mode = any(c.scope.ship_modes is not None for c in clauses)
    used_flags = sorted({f for c in clauses for f, _ in c.scope.flags})
    all_mt, all_modes = tuple(MerchantType), tuple(ShipMode)
    mt_atoms = [(m,) for m in all_mt] if scoped_mt else [all_mt]
    cat_atoms = [(k,) for k in category_keys] if scoped_cat else [tuple(category_keys)]
    mode_atoms = [(m,) for m in all_modes] if scoped_mode else [all_modes]
    for mts, cats, modes, chosen in itertools.product(
        mt_atoms, cat_atoms, mode_atoms, itertools.product((False, True), repeat=len(used_flags))
    ):
        fixed = dict(zip(used_flags, chosen, strict=True))
        base = OrderContext(
            merchant_type=mts[0],
            category=cats[0],
            ship_mode=modes[0],
            flags=frozenset(f for f, v in fixed.items() if v),
        )
        in_scope = [c for c in clauses if c.scope.mismatch(base) is None]
        for bounds in _clock_grid(in_scope):
            clocks = {clock: _inside(lo, hi) for clock, (lo, hi) in bounds.items()}
            ctx = OrderContext(
                base.merchant_type, base.category, base.ship_mode, base.flags, clocks
            )
            yield Cell(parameter, mts, cats, modes, fixed, bounds, ctx)


def _clock_grid(
    clauses: Sequence[Clause],
) -> Iterator[dict[Clock, tuple[datetime | None, datetime | None]]]:
    points: dict[Clock, set[datetime]] = {}
    for c in clauses:
        for moment in (c.window.start, c.window.end, c.valid.start, c.valid.end):
            if moment is not None:
                points.setdefault(c.clock, set()).add(moment)
    clocks = sorted(points)
    spans = []
    for clock in clocks:
        edges: list[datetime | None] = [None, *sorted(points[clock]), None]
        spans.append(list(itertools.pairwise(edges)))
    for combo in itertools.product(*spans):
        yield dict(zip(clocks, combo, strict=True))


def _inside(lo: datetime | None, hi: datetime | None) -> datetime:
    if lo is not None:
        return lo
    assert hi is not None  # a relevant clock has at least one breakpoint
    return hi - _SECOND


def describe(ctx: OrderContext) -> str:
    parts = [ctx.merchant_type.value, ctx.category or "(other category)", ctx.ship_mode.value]
    parts += sorted(ctx.flags)
    parts += [f"{c.value}={format_beijing(t)}" for c, t in sorted(ctx.clocks.items())]
    return ", ".join(parts)


def find_conflicts(
    resolver: Resolver,
    by_parameter: dict[str, tuple[Clause, ...]],
    category_keys: Sequence[str],
    ties: list[Conflict] | None = None,
) -> list[Conflict]:
    """Every pair of clauses left in conflict in some cell; optionally collects ``ties``:
    pairs that both survive with the same value (harmless, but an exception is clearer)."""
    found: dict[tuple[str, tuple[str, ...]], Conflict] = {}
    tied: dict[tuple[str, tuple[str, ...]], Conflict] = {}
    for parameter, clauses in sorted(by_parameter.items()):
        for cell in cells(parameter, clauses, category_keys):
            try:
                answer = resolver.resolve(parameter, cell.ctx)
                if answer is not None and answer.concurring and ties is not None:
                    pair = (answer.clause_id, answer.concurring[0])
                    value = format_value(answer.value)
                    tie = Conflict(parameter, pair, f"both {value}", describe(cell.ctx))
                    tied.setdefault((parameter, pair), tie)
            except ConflictError as exc:
                key = (parameter, exc.clause_ids)
                if key not in found:
                    ids = (exc.clause_ids[0], exc.clause_ids[1])
                    detail = str(exc).rsplit("(", 1)[-1].rstrip(")")
                    found[key] = Conflict(parameter, ids, detail, describe(cell.ctx))
    if ties is not None:
        ties.extend(tied.values())
    return list(found.values())


def clock_columns() -> list[str]:
    return [f"{c.value}_{side}" for c in Clock for side in ("from", "to")]


def build_table(
    resolver: Resolver,
    by_parameter: dict[str, tuple[Clause, ...]],
    category_keys: Sequence[str],
) -> pa.Table:
    """The batch form: each order matches at most one row per parameter (see docs/rulebook.md).

    One row per cell is built in Python, with list columns for the scope values it covers;
    Arrow then explodes the lists into one row per combination. A flag no clause of the
    parameter scopes on is null (either value), not both values: expanded over all eight
    flags the table had 2.4 M rows (918 MB) where the cells need 1/256 of that per unused
    flag combination (docs/decisions/rulebook-parameter-table.md).
    """
    per_cell: dict[str, list[object]] = {name: [] for name in _CELL_COLUMNS}
    atoms: dict[str, list[list[object]]] = {name: [] for name in _ATOM_COLUMNS}
    for parameter, clauses in sorted(by_parameter.items()):
        for cell in cells(parameter, clauses, category_keys):
            answer = resolver.resolve(parameter, cell.ctx)  # ConflictError propagates
            if answer is None:
                continue
            for name, value in _cell_values(cell, answer).items():
                per_cell[name].append(value)
            atoms["merchant_type"].append([m.value for m in cell.merchant_types])
            atoms["category_key"].append(list(cell.category_keys))
            atoms["ship_mode"].append([m.value for m in cell.ship_modes])
    table = pa.Table.from_pydict(
        {name: pa.array(values, _SCHEMA.field(name).type) for name, values in per_cell.items()}
        | {name: pa.array(values, _ATOM_COLUMNS[name]) for name, values in atoms.items()}
    )
    for name in _ATOM_COLUMNS:
        table = _explode(table, name)
    return table.select(_SCHEMA.names).cast(_SCHEMA)


def _explode(table: pa.Table, name: str) -> pa.Table:
    """One row per element of the list column ``name``, other columns repeated.

    The list column is set aside before the repeat: taking it too would copy each row's whole
    list once per element."""
    column = table[name]
    index = table.schema.get_field_index(name)
    repeated = table.remove_column(index).take(pc.list_parent_indices(column))
    return repeated.add_column(index, name, pc.list_flatten(column))


def _cell_values(cell: Cell, answer: Answer) -> dict[str, object]:
    out = {"parameter": cell.parameter, **_value_columns(answer)}
    out |= {f"flag_{f}": cell.flags.get(f) for f in FLAGS}  # None: either value
    for clock in Clock:
        lo, hi = cell.bounds.get(clock, (None, None))
        out[f"{clock.value}_from"] = epoch_seconds(lo) if lo is not None else None
        out[f"{clock.value}_to"] = epoch_seconds(hi) if hi is not None else None
    return out


def _value_columns(answer: Answer) -> dict[str, object]:
    v = answer.value
    out: dict[str, object] = {
        "value_kind": None,
        "value_seconds": None,
        "value_anchor": None,
        "value_instant": None,
        "value_bool": None,
        "value_number": None,
        "value_modes": None,
        "clause_id": answer.cited,  # with its version label: verdicts cite it
        "overridden": ";".join(answer.overridden),
    }
    if isinstance(v, Duration):
        out.update(value_kind="duration", value_seconds=v.seconds, value_anchor=v.anchor.value)
    elif isinstance(v, Instant):
        out.update(value_kind="instant", value_instant=epoch_seconds(v.at))
    elif isinstance(v, bool):
        out.update(value_kind="bool", value_bool=v)
    elif isinstance(v, float):
        out.update(value_kind="number", value_number=v)
    else:
        out.update(value_kind="modes", value_modes=format_value(v))
    return out


_SCHEMA = pa.schema(
    [
        ("parameter", pa.string()),
        ("merchant_type", pa.string()),
        ("category_key", pa.string()),
        ("ship_mode", pa.string()),
        *[(f"flag_{f}", pa.bool_()) for f in FLAGS],
        *[(name, pa.int64()) for name in clock_columns()],
        ("value_kind", pa.string()),
        ("value_seconds", pa.int64()),
        ("value_anchor", pa.string()),
        ("value_instant", pa.int64()),
        ("value_bool", pa.bool_()),
        ("value_number", pa.float64()),
        ("value_modes", pa.string()),
        ("clause_id", pa.string()),
        ("overridden", pa.string()),
    ]
)

_KEY_COLUMNS = ("merchant_type", "category_key", "ship_mode")
_CELL_COLUMNS = tuple(n for n in _SCHEMA.names if n not in _KEY_COLUMNS)
_ATOM_COLUMNS = {
    "merchant_type": pa.list_(pa.string()),
    "category_key": pa.list_(pa.string()),
    "ship_mode": pa.list_(pa.string()),
}
