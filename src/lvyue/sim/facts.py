"""Running the simulator: ``simulate`` (in memory) and ``write_facts`` (chunked to disk)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lvyue.model.files import commit
from lvyue.model.time import epoch_seconds
from lvyue.sim.chunk import CHUNK_TABLES, chunk_tables, with_instants
from lvyue.sim.cut import cut_at
from lvyue.sim.tables import conversion_table, world_tables
from lvyue.sim.world import World, build_world

CHUNK_SIZE = 200_000
WORLD_TABLES = (
    "merchants",
    "accounts",
    "products",
    "outlets",
    "lanes",
    "ground_truth",
    "abnormal_merchants",
    "promotions",
    "false_claims",
)
TABLES = (*CHUNK_TABLES, *WORLD_TABLES, "conversion")  # every table the simulator writes
Format = Literal["parquet", "csv"]
Progress = Callable[[int, int], None]  # (orders done, orders in all)


def _chunks(world: World, cut: bool) -> Iterator[tuple[dict[str, pa.Table], np.ndarray]]:
    for chunk, first in enumerate(range(0, world.orders, CHUNK_SIZE)):
        tables, sums = chunk_tables(world, chunk, first, min(CHUNK_SIZE, world.orders - first))
        yield _cut(world, tables, cut), sums


def _world_tables(world: World, cut: bool) -> dict[str, pa.Table]:
    return _cut(world, {k: with_instants(t) for k, t in world_tables(world).items()}, cut)


def _cut(world: World, tables: dict[str, pa.Table], cut: bool) -> dict[str, pa.Table]:
    """A world living at ``live_at`` holds nothing after it (``cut.cut_at``)."""
    if not cut or world.live_at is None:
        return tables
    return cut_at(tables, datetime.fromtimestamp(world.live_at, UTC))


def simulate(
    orders: int, seed: int, live_at: datetime | None = None, peers: int = 0, *, cut: bool = True
) -> dict[str, pa.Table]:
    """The whole marketplace in memory (for small sizes): table name -> Arrow table.

    Same (orders, seed, live_at, peers) -> same tables, equal to what ``write_facts`` writes.
    ``live_at``: a world living at that instant (nothing paid after it and, unless ``cut`` is
    False, nothing happened after it: ``cut.cut_at``; the demo's).
    ``peers``: a showcase world (``world.build_world``; the demo's)."""
    _check(orders)
    world = build_world(orders, seed, _epoch(live_at), peers)
    parts: dict[str, list[pa.Table]] = {name: [] for name in CHUNK_TABLES}
    sums = np.zeros((len(world.merchant_cdf), 5))
    for tables, chunk_sums in _chunks(world, cut):
        for name, table in tables.items():
            parts[name].append(table)
        sums += chunk_sums
    result = {name: pa.concat_tables(p) for name, p in parts.items()}
    result.update(_world_tables(world, cut))
    result["conversion"] = conversion_table(world, sums)
    return result


def write_facts(
    out_dir: Path | str,
    orders: int,
    seed: int,
    fmt: Format = "parquet",
    progress: bool | Progress = True,
    live_at: datetime | None = None,
    peers: int = 0,
    *,
    cut: bool = True,
) -> dict[str, int]:
    """Write the marketplace as a facts directory, chunk by chunk (bounded memory).

    Files appear in ``out_dir`` only when everything is written (nothing half-written on
    failure); they replace the same tables in either format. Returns rows per table.
    ``progress``: True for a Rich bar, or a callback ``(orders done, orders in all)``."""
    _check(orders)
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".lvyue-sim-", dir=out))
    try:
        counts = _write_all(
            staging, build_world(orders, seed, _epoch(live_at), peers), fmt, progress, cut
        )
        other = "csv" if fmt == "parquet" else "parquet"
        for name in counts:
            commit(staging / f"{name}.{fmt}", out / f"{name}.{fmt}")
            # A table in both formats is an invalid facts directory: the new one wins.
            (out / f"{name}.{other}").unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_seconds(moment)


def _write_all(
    staging: Path, world: World, fmt: Format, progress: bool | Progress, cut: bool
) -> dict[str, int]:
    orders = world.orders
    sinks = {name: _Sink(staging / f"{name}.{fmt}", fmt) for name in CHUNK_TABLES}
    sums = np.zeros((len(world.merchant_cdf), 5))
    report = _progress_bar(orders) if progress is True else progress or None
    try:
        done = 0
        for tables, chunk_sums in _chunks(world, cut):
            for name, table in tables.items():
                sinks[name].write(table)
            sums += chunk_sums
            done += len(tables["orders"])
            if report is not None:
                report(done, orders)
    finally:
        for sink in sinks.values():
            sink.close()
        if progress is True and report is not None:
            report(-1, orders)
    counts = {name: sink.rows for name, sink in sinks.items()}
    finals = _world_tables(world, cut)
    finals["conversion"] = conversion_table(world, sums)
    for name, table in finals.items():
        sink = _Sink(staging / f"{name}.{fmt}", fmt)
        sink.write(table)
        sink.close()
        counts[name] = sink.rows
    return counts


def _check(orders: int) -> None:
    if orders < 1:
        raise ValueError(f"orders must be at least 1, not {orders}")


class _Sink:
    """A Parquet or CSV file written one table at a time with one schema."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path, self.fmt, self.rows = path, fmt, 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.fmt == "csv":
            table = as_csv_text(table)
        if self._writer is None:
            if self.fmt == "parquet":
                self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            else:
                self._writer = pacsv.CSVWriter(self.path, table.schema)
        self._writer.write_table(
            table.cast(self._writer.schema) if self.fmt == "parquet" else table
        )
        self.rows += len(table)

    def close(self) -> None:
        if self._writer is None:  # no chunk: still write the header
            return
        self._writer.close()


def as_csv_text(table: pa.Table) -> pa.Table:
    """Instants as naive Beijing time (the facts format's usual CSV form), booleans as
    true/false: the text a merchant's spreadsheet would show."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            local = pc.cast(table.column(i), pa.timestamp("s", tz="Asia/Shanghai"))
            text = pc.strftime(local, format="%Y-%m-%d %H:%M:%S")
            table = table.set_column(i, field.name, text)
    return table


def _progress_bar(total: int) -> Progress:
    """A Rich bar (on stderr) advanced once per chunk; call with done = -1 to stop it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("simulating orders"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = bar.add_task("orders", total=total)
    bar.start()

    def report(done: int, _total: int) -> None:
        if done < 0:
            bar.stop()
        else:
            bar.update(task, completed=done)

    return report
