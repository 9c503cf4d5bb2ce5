"""Read and validate a facts directory (docs/formats.md) into typed Arrow tables.

Every bad row is named by file, row (1 = first data row after the header) and column. Without
``skip_bad`` the first one stops the load with :class:`FactsError`; with it, bad rows go to
``Facts.quarantine`` and counts in = counts out + quarantined.
"""

from __future__ import annotations

import bisect
import csv
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lvyue.facts.convert import convert, empty_column
from lvyue.model.files import write_atomically
from lvyue.model.schema import (
    AFTER_SALES,
    COMPLAINTS,
    INSPECTIONS,
    LABELS,
    MERCHANTS,
    ORDERS,
    PROMOTIONS,
    REPORTS,
    REVIEWS,
    TRACKING,
    Kind,
    TableSpec,
)

STARS = pa.array([1.0, 2.0, 3.0, 4.0, 5.0])  # a review's rating: whole stars


class FactsError(ValueError):
    """A facts directory that cannot be read; ``str()`` is one line naming file, row, column."""


@dataclass(frozen=True)
class BadRow:
    file: str
    row: int  # 1 = first data row after the header
    column: str
    error: str
    record: dict[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.file} row {self.row}, column {self.column}: {self.error}"


@dataclass
class Facts:
    orders: pa.Table
    tracking: pa.Table
    after_sales: pa.Table
    reports: pa.Table
    inspections: pa.Table
    merchants: pa.Table
    labels: pa.Table
    quarantine: list[BadRow] = field(default_factory=list)
    reviews: pa.Table = field(default_factory=lambda: empty_table(REVIEWS))  # VF-8
    complaints: pa.Table = field(default_factory=lambda: empty_table(COMPLAINTS))  # VF-8
    promotions: pa.Table = field(default_factory=lambda: empty_table(PROMOTIONS))  # VF-9
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # read, kept, bad


def load_facts(
    path: Path,
    *,
    skip_bad: bool = False,
    columns: Mapping[str, Collection[str]] | None = None,
) -> Facts:
    """Read ``path``; raises FactsError on the first bad row unless ``skip_bad``.

    ``columns`` (table -> names) lets a caller that reads only some columns skip the rest: a
    column is left unread (null, or absent if not in the format) only when it can never make a
    row bad or be missing (optional plain text, not a key), so the same rows are found bad
    either way. With ``skip_bad`` every column is read: quarantined records show whole rows.
    """
    if not path.is_dir():
        raise FactsError(f"{path}: not a facts directory")
    loader = _Loader(path, skip_bad, None if skip_bad else columns)
    orders = loader.table(ORDERS, required=True)
    order_keys = pc.binary_join_element_wise(
        orders["carrier"], orders["waybill"], "\x1f"
    ).combine_chunks()
    tracking = loader.table(TRACKING)
    tracking = loader.drop_unknown(
        TRACKING,
        tracking,
        pc.binary_join_element_wise(tracking["carrier"], tracking["waybill"], "\x1f"),
        order_keys,
        "waybill",
        "tracking for an unknown waybill",
    )
    after_sales = loader.table(AFTER_SALES)
    after_sales = loader.drop_unknown(
        AFTER_SALES,
        after_sales,
        after_sales["order_id"],
        orders["order_id"].combine_chunks(),
        "order_id",
        "unknown order_id",
    )
    order_ids = orders["order_id"].combine_chunks()
    reviews = loader.table(REVIEWS)
    reviews = loader.drop_unknown(
        REVIEWS, reviews, reviews["rating"], STARS, "rating", "rating not a whole 1..5 star"
    )
    reviews = loader.drop_unknown(
        REVIEWS, reviews, reviews["order_id"], order_ids, "order_id", "unknown order_id"
    )
    complaints = loader.table(COMPLAINTS)
    complaints = loader.drop_unknown(
        COMPLAINTS, complaints, complaints["order_id"], order_ids, "order_id", "unknown order_id"
    )
    return Facts(
        orders=orders,
        tracking=tracking,
        after_sales=after_sales,
        reports=loader.table(REPORTS),
        inspections=loader.table(INSPECTIONS),
        merchants=loader.table(MERCHANTS),
        labels=loader.table(LABELS),
        quarantine=loader.bad,
        counts=loader.counts,
        reviews=reviews,
        complaints=complaints,
        promotions=loader.table(PROMOTIONS),
    )


def write_quarantine(bad_rows: Iterable[BadRow], out: Path) -> int:
    """Write bad rows as CSV (file,row,column,error,record); returns how many."""
    count = 0

    def write(tmp: Path) -> None:
        nonlocal count
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "row", "column", "error", "record"])
            for bad in bad_rows:
                record = json.dumps(bad.record, ensure_ascii=False)
                writer.writerow([bad.file, bad.row, bad.column, bad.error, record])
                count += 1

    write_atomically(out, write)
    return count


class _Loader:
    def __init__(
        self, root: Path, skip_bad: bool, wanted: Mapping[str, Collection[str]] | None
    ) -> None:
        self.root = root
        self.skip_bad = skip_bad
        self.wanted = wanted
        self.bad: list[BadRow] = []
        self.counts: dict[str, tuple[int, int, int]] = {}
        self._files: dict[str, FileRows] = {}
        self._rows: dict[str, pa.Array] = {}  # table -> original row numbers of kept rows

    def table(self, spec: TableSpec, *, required: bool = False) -> pa.Table:
        files = find_files(self.root, spec.name)
        if not files:
            if required:
                raise FactsError(f"{self.root}: no {spec.name}.csv or {spec.name}.parquet")
            return empty_table(spec)
        tables = [_read(f, self._columns(spec)) for f in files]
        where = self._files[spec.name] = file_rows(files, [t.num_rows for t in tables])
        raw = tables[0] if len(tables) == 1 else _concat(tables)
        missing = [c.name for c in spec.columns if c.required and c.name not in raw.column_names]
        if missing:
            raise FactsError(f"{files[0].name}: missing required column {missing[0]!r}")
        columns: dict[str, pa.Array] = {}
        bad_rows: dict[int, BadRow] = {}
        for column in spec.columns:
            if column.name not in raw.column_names:
                columns[column.name] = empty_column(column, raw.num_rows)
                continue
            values = raw[column.name].combine_chunks()
            result = convert(column, values)
            columns[column.name] = result.values
            for i in _true_indices(result.bad):
                if i not in bad_rows:
                    shown = values[i].as_py()
                    error = f"{result.reason}: {shown!r}"
                    bad_rows[i] = BadRow(*where.where(i), column.name, error)
        for name in spec.key:
            for i in _duplicate_indices(columns[name]):
                if i not in bad_rows:
                    error = f"duplicate {name} {columns[name][i].as_py()!r}"
                    bad_rows[i] = BadRow(*where.where(i), name, error)
        extras = {n: raw[n].combine_chunks() for n in raw.column_names if n not in columns}
        table = pa.table({**columns, **extras})
        return self._keep_good(spec.name, raw, table, bad_rows)

    def _columns(self, spec: TableSpec) -> set[str] | None:
        return columns_to_read(spec, self.wanted)

    def drop_unknown(
        self,
        spec: TableSpec,
        table: pa.Table,
        keys: pa.Array | pa.ChunkedArray,
        known: pa.Array,
        column: str,
        error: str,
    ) -> pa.Table:
        """Rows whose reference (waybill, order_id) is not among the kept orders are bad."""
        if table.num_rows == 0:
            return table
        unknown = pc.invert(pc.fill_null(pc.is_in(keys, value_set=known), False))
        indices = _true_indices(unknown)
        if not indices:
            return table
        rows = self._rows[spec.name]
        bad = {
            i: BadRow(
                *self._files[spec.name].where(int(rows[i].as_py())),
                column,
                f"{error} {table[column][i].as_py()!r}",
            )
            for i in indices
        }
        return self._keep_good(spec.name, table, table, bad, offset_rows=rows)

    def _keep_good(
        self,
        name: str,
        raw: pa.Table,
        table: pa.Table,
        bad_rows: dict[int, BadRow],
        offset_rows: pa.Array | None = None,
    ) -> pa.Table:
        rows = offset_rows if offset_rows is not None else pa.array(np.arange(table.num_rows))
        read = self.counts.get(name, (table.num_rows, 0, 0))[0]
        if bad_rows and not self.skip_bad:
            first = bad_rows[min(bad_rows)]
            more = f" ({len(bad_rows)} bad rows; --skip-bad quarantines them)"
            raise FactsError(str(first) + (more if len(bad_rows) > 1 else ""))
        for i in sorted(bad_rows):
            record = {k: _text(v) for k, v in raw.slice(i, 1).to_pylist()[0].items()}
            bad = bad_rows[i]
            self.bad.append(BadRow(bad.file, bad.row, bad.column, bad.error, record))
        if bad_rows:
            mask = np.ones(table.num_rows, dtype=bool)
            mask[list(bad_rows)] = False
            keep = pa.array(mask)
            table = table.filter(keep)
            rows = rows.filter(keep)
        self._rows[name] = rows
        self.counts[name] = (read, table.num_rows, read - table.num_rows)
        return table


def columns_to_read(
    spec: TableSpec, wanted: Mapping[str, Collection[str]] | None
) -> set[str] | None:
    """The columns to read: those asked for and every one validation looks at (None: all)."""
    if wanted is None:
        return None
    asked = set(wanted.get(spec.name, ()))
    checked = {c.name for c in spec.columns if c.required or c.not_null or c.kind is not Kind.TEXT}
    return asked | checked | set(spec.key)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def find_source(root: Path, name: str) -> Path | None:
    found = [p for p in (root / f"{name}.parquet", root / f"{name}.csv") if p.is_file()]
    if len(found) > 1:
        raise FactsError(f"{root}: both {name}.parquet and {name}.csv; keep one")
    return found[0] if found else None


def find_files(root: Path, name: str) -> list[Path]:
    """A table's files: ``NAME.parquet`` or ``NAME.csv``, then the parts appended to it,
    ``NAME/*.parquet`` in name order (docs/formats.md, "Appended parts")."""
    base = find_source(root, name)
    folder = root / name
    parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if parts and base is not None and base.suffix == ".csv":
        raise FactsError(f"{root}: {name}.csv has parts in {name}/; write it as {name}.parquet")
    return ([base] if base is not None else []) + parts


@dataclass(frozen=True)
class FileRows:
    """Where a table's rows come from: row ``i`` (0-based, over its files in order) is in the
    last file whose first row is at or before it."""

    names: tuple[str, ...]  # as messages show them: orders.parquet, tracking/0001.parquet
    starts: tuple[int, ...]  # each file's first row

    def where(self, row: int) -> tuple[str, int]:
        """The file and its row number (1 = its first data row) of table row ``row``."""
        i = bisect.bisect_right(self.starts, row) - 1
        return self.names[i], row - self.starts[i] + 1


def file_rows(files: list[Path], counts: list[int]) -> FileRows:
    names = tuple(f.name if f.parent == files[0].parent else f"{f.parent.name}/{f.name}"
                  for f in files)  # fmt: skip
    starts = tuple(int(s) for s in np.cumsum([0, *counts[:-1]]))
    return FileRows(names, starts)


def _read(source: Path, columns: set[str] | None = None) -> pa.Table:
    """The file as Arrow; only ``columns`` (those the file has) when given."""
    try:
        if source.suffix == ".parquet":
            if columns is None:
                return pq.read_table(source)
            names = pq.read_schema(source).names
            return pq.read_table(source, columns=[n for n in names if n in columns])
        return pacsv.read_csv(source, convert_options=csv_options(source, columns))
    except READ_ERRORS as error:
        raise cannot_read(source, error) from error


def _concat(tables: list[pa.Table]) -> pa.Table:
    """A base file and its parts as one table (a part may lack optional columns)."""
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise FactsError(f"parts do not match their table: {error}") from error


READ_ERRORS = (pa.ArrowInvalid, OSError, UnicodeDecodeError)


def cannot_read(source: Path, error: Exception) -> FactsError:
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return FactsError(f"{source.name}: cannot read: {first_line}")


def csv_options(source: Path, columns: Collection[str] | None) -> pacsv.ConvertOptions:
    """Every cell as text ("" and Arrow's null words as null), only ``columns`` when given."""
    with source.open(encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    if not header:
        raise FactsError(f"{source.name}: empty file (a header row is required)")
    return pacsv.ConvertOptions(
        column_types={n: pa.string() for n in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        include_columns=[n for n in header if columns is None or n in columns],
    )


def empty_table(spec: TableSpec) -> pa.Table:
    return pa.table({c.name: empty_column(c, 0) for c in spec.columns})


def _true_indices(mask: pa.Array) -> list[int]:
    if not pc.any(mask).as_py():
        return []
    return [int(i) for i in pc.indices_nonzero(mask).to_pylist()]


def _duplicate_indices(values: pa.Array) -> list[int]:
    """Rows whose key appeared on an earlier row (the first occurrence is kept)."""
    if len(values) == 0:
        return []
    if pc.count_distinct(values, mode="all").as_py() == len(values):
        return []
    indexed = pa.table({"k": values, "i": pa.array(np.arange(len(values), dtype=np.int64))})
    firsts = indexed.group_by("k").aggregate([("i", "min")])["i_min"]
    is_first = pc.is_in(indexed["i"], value_set=firsts)
    return _true_indices(pc.invert(is_first).combine_chunks())
