"""One facts file as a raw DuckDB relation with a row number, for :mod:`lvyue.facts.scan`.

Parquet stays on disk: a view over ``read_parquet(..., file_row_number=true)``. CSV is parsed
by pyarrow's streaming reader (the parser load_facts uses, so the same cells and nulls) into a
DuckDB temp table of text, batch by batch; DuckDB spills it under its memory limit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lvyue.facts.loader import READ_ERRORS, FileRows, cannot_read, csv_options, file_rows
from lvyue.facts.sql import literal, quote

ROW = "__lvyue_row"  # 0-based row number in the file (row 1 of a message is 0 here)

Record = dict[str, object]  # a raw row as pyarrow gives it (``as_py`` values)


@dataclass
class RawSource:
    files: list[Path]  # one file, or a Parquet base and its appended parts
    relation: str  # view or temp table: ROW, then the columns read, in file order
    types: dict[str, str]  # column -> DuckDB type, file order
    rows: int
    located: FileRows  # ROW -> file and row in it

    @property
    def path(self) -> Path:
        return self.files[0]

    @property
    def file(self) -> str:
        return self.path.name

    def where(self, row: int) -> tuple[str, int]:
        """The file and its row number (1 = first data row) of ``ROW`` ``row``."""
        return self.located.where(row)

    def records(
        self, con: duckdb.DuckDBPyConnection, rows: Sequence[int], columns: Collection[str]
    ) -> dict[int, Record]:
        """The raw values of ``columns`` on ``rows`` (few: the bad ones), as load_facts saw them."""
        if not rows:
            return {}
        if self.path.suffix == ".parquet":
            records: dict[int, Record] = {}
            ends = [*self.located.starts[1:], self.rows]
            for path, start, end in zip(self.files, self.located.starts, ends, strict=True):
                mine = [r - start for r in rows if start <= r < end]
                picked = _parquet_records(path, mine, columns) if mine else {}
                records.update({r + start: record for r, record in picked.items()})
            return records
        order = [c for c in self.types if c in columns]
        found = rows_of(con, self.relation, order, rows)
        return {row: dict(zip(order, values, strict=True)) for row, values in found.items()}


def rows_of(
    con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str], rows: Sequence[int]
) -> dict[int, tuple[object, ...]]:
    """Row number -> ``columns`` of ``relation``, for the given rows (a semi-join, not SQL text
    growing with the number of rows)."""
    wanted = f"{relation}_wanted"
    con.register(wanted, pa.table({"row": pa.array(sorted(set(rows)), pa.int64())}))
    try:
        names = ", ".join([ROW, *(quote(c) for c in columns)])
        found = con.execute(
            f"SELECT {names} FROM {relation} WHERE {ROW} IN (SELECT row FROM {wanted})"
        ).fetchall()
    finally:
        con.unregister(wanted)
    return {int(row): tuple(values) for row, *values in found}


def open_source(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    relation: str,
    columns: Collection[str] | None,
) -> RawSource:
    """Create ``relation`` over the files; only ``columns`` (those they have) when given."""
    if files[0].suffix == ".parquet":
        return _open_parquet(con, files, relation, columns)
    return _open_csv(con, files[0], relation, columns)


def _open_parquet(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    relation: str,
    columns: Collection[str] | None,
) -> RawSource:
    counts: list[int] = []
    names: list[str] = []
    for path in files:
        try:  # pyarrow opens the footer first, so an unreadable file fails as in load_facts
            counts.append(pq.read_table(path, columns=[]).num_rows)
            names += [n for n in pq.read_schema(path).names if n not in names]
        except READ_ERRORS as error:
            raise cannot_read(path, error) from error
    kept = [n for n in names if columns is None or n in columns]
    located = file_rows(files, counts)
    row = "file_row_number"
    if len(files) > 1:  # ROW counts over the files in order (parts after their base)
        starts = " ".join(f"WHEN {literal(str(f))} THEN {s}"
                          for f, s in zip(files, located.starts, strict=True))  # fmt: skip
        row = f"(CASE filename {starts} END + file_row_number)"
    selected = ", ".join([f"{row} AS {ROW}", *(quote(n) for n in kept)])
    listed = ", ".join(literal(str(f)) for f in files)
    source = (
        f"read_parquet([{listed}], file_row_number = true, filename = true, union_by_name = true)"
    )
    con.execute(f"CREATE TEMP VIEW {relation} AS SELECT {selected} FROM {source}")
    return RawSource(files, relation, _types(con, relation), sum(counts), located)


def _open_csv(
    con: duckdb.DuckDBPyConnection, path: Path, relation: str, columns: Collection[str] | None
) -> RawSource:
    failure: list[Exception] = []
    try:
        reader = pacsv.open_csv(path, convert_options=csv_options(path, columns))
    except READ_ERRORS as error:
        raise cannot_read(path, error) from error
    schema = reader.schema.append(pa.field(ROW, pa.int64()))
    numbered = pa.RecordBatchReader.from_batches(schema, _numbered(reader, failure))
    stream = relation + "_stream"
    con.register(stream, numbered)
    try:
        con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM {stream}")
    finally:
        con.unregister(stream)
    if failure:
        con.execute(f"DROP TABLE {relation}")
        raise cannot_read(path, failure[0]) from failure[0]
    ((rows,),) = con.execute(f"SELECT count(*) FROM {relation}").fetchall()
    return RawSource([path], relation, _types(con, relation), int(rows), file_rows([path], [rows]))


def _numbered(
    reader: pacsv.CSVStreamingReader, failure: list[Exception]
) -> Iterator[pa.RecordBatch]:
    """The CSV's batches with a row-number column; a parse error ends the stream, kept aside."""
    offset = 0
    try:
        for batch in reader:
            numbers = pa.array(np.arange(offset, offset + batch.num_rows, dtype=np.int64))
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, numbers], names=[*batch.schema.names, ROW]
            )
            offset += batch.num_rows
    except READ_ERRORS as error:
        failure.append(error)


def _types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    described = con.sql(f"DESCRIBE {relation}").fetchall()
    return {str(name): str(kind) for name, kind, *_ in described if name != ROW}


def _parquet_records(
    path: Path, rows: Sequence[int], columns: Collection[str]
) -> dict[int, Record]:
    """Read only the row groups holding ``rows``, with pyarrow as load_facts does."""
    parquet = pq.ParquetFile(path)
    names = [n for n in parquet.schema_arrow.names if n in columns]
    found: dict[int, Record] = {}
    start = 0
    wanted = sorted(set(rows))
    for group in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        inside = [r for r in wanted if start <= r < start + size]
        if inside:
            table = parquet.read_row_group(group, columns=names)
            picked = table.take(pa.array([r - start for r in inside])).to_pylist()
            found.update(zip(inside, picked, strict=True))
        start += size
    return found
