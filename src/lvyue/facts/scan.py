"""Read and validate a facts directory inside DuckDB, out of core: the rules of load_facts.

``scan_facts`` leaves one DuckDB view per table holding the good rows, typed (times as BIGINT
epoch seconds UTC), and finds the bad rows with SQL: one pass per table for bad values, an
aggregate for duplicate keys, an anti-join for tracking/after-sales pointing at no kept order.
Only the bad rows (usually none) and the distinct odd time texts ever reach Python. Messages,
row numbers, quarantine order and counts are load_facts's (docs/formats.md); the caller bounds
memory with DuckDB's ``memory_limit`` and ``temp_directory``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from lvyue.facts.convert import TIME_TYPE
from lvyue.facts.loader import BadRow, FactsError, cannot_read, columns_to_read, find_files
from lvyue.facts.source import ROW, RawSource, Record, open_source, rows_of
from lvyue.facts.sql import ColumnSql, column_sql, literal, null_value, quote, reason
from lvyue.model.schema import (
    AFTER_SALES,
    INSPECTIONS,
    ORDERS,
    REPORTS,
    TRACKING,
    Column,
    Kind,
    TableSpec,
)
from lvyue.model.time import InstantError, parse_instant


@dataclass
class Scan:
    relations: dict[str, str]  # table -> DuckDB view of its good rows, typed
    quarantine: list[BadRow] = field(default_factory=list)
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # read, kept, bad


def scan_facts(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    skip_bad: bool = False,
    columns: Mapping[str, Collection[str]] | None = None,
) -> Scan:
    """Views in ``con`` of the facts at ``path``; FactsError on the first bad row unless
    ``skip_bad``. ``columns`` as in :func:`lvyue.facts.load_facts` (ignored with skip_bad)."""
    if not path.is_dir():
        raise FactsError(f"{path}: not a facts directory")
    scanner = _Scanner(con, path, skip_bad, None if skip_bad else columns)
    try:
        return scanner.run()
    except BaseException:
        scanner.drop_all()  # nothing half-made is left in the caller's connection
        raise


@dataclass
class _Table:
    spec: TableSpec
    typed: str  # view: ROW and every column, typed, bad rows included
    bad: str  # temp table: row, col, stage ('value', 'duplicate', 'unknown'), shown
    columns: list[str]  # the relation's columns: the spec's, then extras read
    source: RawSource | None = None
    sql: dict[str, ColumnSql] = field(default_factory=dict)
    bad_rows: int = 0


class _Scanner:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        root: Path,
        skip_bad: bool,
        wanted: Mapping[str, Collection[str]] | None,
    ) -> None:
        self.con = con
        self.root = root
        self.skip_bad = skip_bad
        self.wanted = wanted
        self.prefix = f"lvyue_facts_{secrets.token_hex(4)}_"
        self.created: list[tuple[str, str]] = []  # (VIEW | TABLE, name), to drop on failure
        self.scan = Scan(relations={})
        self._lookups: dict[Kind, str] = {}

    def run(self) -> Scan:
        orders = self.table(ORDERS, required=True)
        tracking = self.table(TRACKING)
        self.drop_unknown(tracking, orders, ("carrier", "waybill"), "waybill",
                          "tracking for an unknown waybill")  # fmt: skip
        after_sales = self.table(AFTER_SALES)
        self.drop_unknown(after_sales, orders, ("order_id",), "order_id", "unknown order_id")
        tables = (orders, tracking, after_sales, self.table(REPORTS), self.table(INSPECTIONS))
        for table in tables:
            self.scan.relations[table.spec.name] = self.publish(table)
        return self.scan

    def drop_all(self) -> None:
        for kind, name in reversed(self.created):
            with contextlib.suppress(duckdb.Error):  # keep the error that brought us here
                self.con.execute(f"DROP {kind} IF EXISTS {name}")

    def _name(self, kind: str, suffix: str) -> str:
        name = self.prefix + suffix
        self.created.append((kind, name))
        return name

    # -- one table: read, type, find bad values and duplicate keys ---------------------------

    def table(self, spec: TableSpec, *, required: bool = False) -> _Table:
        files = find_files(self.root, spec.name)
        table = _Table(spec, self._name("VIEW", f"{spec.name}_typed"), "", [])
        if not files:
            if required:
                raise FactsError(f"{self.root}: no {spec.name}.csv or {spec.name}.parquet")
            table.columns = [c.name for c in spec.columns]
            return table
        kind = "VIEW" if files[0].suffix == ".parquet" else "TABLE"
        raw_name = self._name(kind, f"{spec.name}_raw")
        raw = open_source(self.con, files, raw_name, columns_to_read(spec, self.wanted))
        with _reading(files[0]):
            return self._validate(table, raw)

    def _validate(self, table: _Table, raw: RawSource) -> _Table:
        spec = table.spec
        missing = [c.name for c in spec.columns if c.required and c.name not in raw.types]
        if missing:
            raise FactsError(f"{raw.file}: missing required column {missing[0]!r}")
        table.source = raw
        table.bad = self._name("TABLE", f"{spec.name}_bad")
        joins = self._type(table)
        self._find_bad_values(table, joins)
        self._find_duplicates(table)
        self._settle(table, ("value", "duplicate"))
        return table

    def _type(self, table: _Table) -> str:
        """Build the typed view; returns its FROM clause (raw joined to the residual lookups)."""
        raw = _source(table)
        present = [c for c in table.spec.columns if c.name in raw.types]
        first = {c.name: self._column(c, raw, None) for c in present}
        looked_up = self._residuals(raw, present, first)
        joins = f"{raw.relation} AS r"
        for i, column in enumerate(present):
            if column.name in looked_up:
                alias = f"l{i}"
                lookup = self._lookups[column.kind]
                residual = first[column.name].residual
                joins += f" LEFT JOIN {lookup} AS {alias} ON {alias}.text = {residual}"
                table.sql[column.name] = self._column(column, raw, f"{alias}.value")
            else:
                table.sql[column.name] = first[column.name]
        extras = [n for n in raw.types if table.spec.column(n) is None]
        table.columns = [c.name for c in table.spec.columns] + extras
        values = [f"{_value(table, c)} AS {quote(c.name)}" for c in table.spec.columns]
        selected = ", ".join([f"r.{ROW}", *values, *(f"r.{quote(n)}" for n in extras)])
        self.con.execute(f"CREATE TEMP VIEW {table.typed} AS SELECT {selected} FROM {joins}")
        return joins

    def _column(self, column: Column, raw: RawSource, lookup: str | None) -> ColumnSql:
        return column_sql(column, f"r.{quote(column.name)}", raw.types[column.name], lookup)

    def _residuals(
        self, raw: RawSource, present: list[Column], first: dict[str, ColumnSql]
    ) -> set[str]:
        """Read in Python the distinct texts SQL cannot (one query); the columns that had any."""
        parts = [
            f"struct_pack(c := {i}, v := {first[c.name].residual})"
            for i, c in enumerate(present)
            if first[c.name].residual is not None
        ]
        if not parts:
            return set()
        found = self.con.sql(
            f"SELECT DISTINCT s.c, s.v FROM (SELECT unnest([{', '.join(parts)}]) AS s"
            f" FROM {raw.relation} AS r) WHERE s.v IS NOT NULL"
        ).fetchall()
        texts: dict[Kind, set[str]] = {}
        for index, text in found:
            texts.setdefault(present[index].kind, set()).add(text)
        for kind, values in texts.items():
            self._remember(kind, sorted(values))
        return {present[index].name for index, _ in found}

    def _remember(self, kind: Kind, texts: list[str]) -> None:
        """Add the readings of ``texts`` to the lookup table of ``kind`` (NULL: unreadable)."""
        if kind not in self._lookups:
            name = self._name("TABLE", f"lookup_{kind.value}")
            sql_type = "BIGINT" if kind is Kind.TIME else "DOUBLE"
            self.con.execute(
                f"CREATE TEMP TABLE {name} (text VARCHAR PRIMARY KEY, value {sql_type})"
            )
            self._lookups[kind] = name
        lookup = self._lookups[kind]
        readings = pa.table(
            {"text": pa.array(texts, pa.string()), "value": _read_texts(kind, texts)}
        )
        self.con.register(lookup + "_new", readings)
        try:
            self.con.execute(
                f"INSERT INTO {lookup} SELECT * FROM {lookup}_new"
                f" WHERE text NOT IN (SELECT text FROM {lookup})"
            )
        finally:
            self.con.unregister(lookup + "_new")

    def _find_bad_values(self, table: _Table, joins: str) -> None:
        """One pass: each bad row with its first bad column (spec order), and per not-null
        column whether it is missing anywhere (load_facts then says "empty or ...")."""
        checked = list(table.sql.items())
        bad = {n: f"({s.invalid} OR {s.missing})" if _not_null(table, n) else s.invalid
               for n, s in checked}  # fmt: skip
        first = " ".join(f"WHEN {bad[n]} THEN {literal(n)}" for n, _ in checked)
        flags = [
            f"{s.missing} AS {quote('missing ' + n)}" for n, s in checked if _not_null(table, n)
        ]
        any_bad = " OR ".join(bad.values()) or "false"
        columns = ", ".join([f"r.{ROW} AS row", f"CASE {first} END AS col", "'value' AS stage",
                             "CAST(NULL AS VARCHAR) AS shown", *flags])  # fmt: skip
        self.con.execute(
            f"CREATE TEMP TABLE {table.bad} AS SELECT {columns} FROM {joins} WHERE {any_bad}"
        )

    def _find_duplicates(self, table: _Table) -> None:
        """Rows whose key appeared on an earlier row, counted over all rows, not yet bad."""
        for key in table.spec.key:
            value = table.sql[key].value
            keyed = f"(SELECT {ROW}, {value} AS k FROM {_source(table).relation} AS r)"
            # grouping 64-bit hashes is cheaper than grouping the texts; a repeated key always
            # repeats its hash, so the texts are compared only where a hash repeats (exact)
            hashes = (
                f"SELECT hash(k) FROM {keyed} WHERE k IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
            )
            if not _count(self.con, hashes):
                continue
            twice = (
                f"SELECT k FROM {keyed} WHERE k IS NOT NULL AND hash(k) IN ({hashes})"
                " GROUP BY k HAVING count(*) > 1"
            )
            if _count(self.con, twice):
                self.con.execute(
                    f"INSERT INTO {table.bad} (row, col, stage, shown)"
                    f" SELECT {ROW}, {literal(key)}, 'duplicate', k FROM ("
                    f"  SELECT {ROW}, k, row_number() OVER (PARTITION BY k ORDER BY {ROW}) AS n"
                    f"  FROM {keyed} WHERE k IN ({twice}))"
                    f" WHERE n > 1 AND {ROW} NOT IN (SELECT row FROM {table.bad})"
                )

    # -- rows pointing at no kept order -------------------------------------------------------

    def drop_unknown(
        self, table: _Table, orders: _Table, keys: tuple[str, ...], column: str, error: str
    ) -> None:
        """Kept rows whose (carrier, waybill) or order_id no kept order has are bad."""
        if table.source is None or table.source.rows - table.bad_rows == 0:
            return
        with _reading(table.source.path):
            self._find_unknown(table, orders, keys, column, error)

    def _find_unknown(
        self, table: _Table, orders: _Table, keys: tuple[str, ...], column: str, error: str
    ) -> None:
        key = " || chr(31) || ".join(quote(k) for k in keys)  # load_facts joins with \x1f
        unknown = self._name("TABLE", f"{table.spec.name}_unknown")
        self.con.execute(
            f"CREATE TEMP TABLE {unknown} AS SELECT DISTINCT t.k FROM"
            f" (SELECT {key} AS k FROM ({_kept(table)})) AS t"
            f" ANTI JOIN (SELECT {key} AS k FROM ({_kept(orders)})) AS o ON t.k = o.k"
        )
        if not _count(self.con, f"SELECT * FROM {unknown}"):
            return
        self.con.execute(
            f"INSERT INTO {table.bad} (row, col, stage, shown)"
            f" SELECT {ROW}, {literal(column)}, 'unknown', {quote(column)} FROM ({_kept(table)})"
            f" WHERE {key} IN (SELECT k FROM {unknown})"
        )
        self._settle(table, ("unknown",), prefix=error)

    # -- bad rows to messages, quarantine and counts ------------------------------------------

    def _settle(self, table: _Table, stages: tuple[str, ...], prefix: str = "") -> None:
        """Raise on the first bad row of ``stages`` unless skip_bad; else quarantine them."""
        raw = _source(table)
        wanted = ", ".join(literal(s) for s in stages)
        found = self.con.sql(
            f"SELECT row, col, stage, shown FROM {table.bad} WHERE stage IN ({wanted}) ORDER BY row"
        ).fetchall()
        table.bad_rows += len(found)
        read = raw.rows
        self.scan.counts[table.spec.name] = (read, read - table.bad_rows, table.bad_rows)
        if not found:
            return
        if not self.skip_bad:
            first = self._bad_rows(table, found[:1], prefix, with_records=False)[0]
            more = f" ({len(found)} bad rows; --skip-bad quarantines them)"
            raise FactsError(str(first) + (more if len(found) > 1 else ""))
        self.scan.quarantine.extend(self._bad_rows(table, found, prefix, with_records=True))

    def _bad_rows(
        self,
        table: _Table,
        found: list[tuple[int, str, str, str | None]],
        prefix: str,
        *,
        with_records: bool,
    ) -> list[BadRow]:
        """BadRows as load_facts makes them: a bad value shows the raw value, a duplicate or
        unknown reference the typed one; records are raw rows, or typed ones for rows dropped
        after typing (``prefix``: the unknown-reference stage)."""
        rows = [int(r[0]) for r in found]
        if prefix:
            records = self._typed_records(table, rows) if with_records else {}
        else:
            needed = set(_source(table).types) if with_records else {r[1] for r in found}
            records = _source(table).records(self.con, rows, needed)
        reasons = self._reasons(table) if not prefix else {}
        bad_rows = []
        for row, column, stage, shown in found:
            if stage == "value":
                error = f"{reasons[column]}: {records[row][column]!r}"
            elif stage == "duplicate":
                error = f"duplicate {column} {shown!r}"
            else:
                error = f"{prefix} {shown!r}"
            record = records.get(row, {}) if with_records else {}
            text = {k: None if v is None else str(v) for k, v in record.items()}
            bad_rows.append(BadRow(*_source(table).where(row), column, error, text))
        return bad_rows

    def _reasons(self, table: _Table) -> dict[str, str]:
        """Each column's reason; "empty or ..." where a not-null column misses a value."""
        reasons = {c.name: reason(c) for c in table.spec.columns}
        flagged = [n for n in table.sql if _not_null(table, n)]
        if flagged:
            anywhere = ", ".join(f"bool_or({quote('missing ' + n)})" for n in flagged)
            (missing,) = self.con.execute(f"SELECT {anywhere} FROM {table.bad}").fetchall()
            for name, hit in zip(flagged, missing, strict=True):
                if hit:
                    reasons[name] = f"empty or {reasons[name]}"
        return reasons

    def _typed_records(self, table: _Table, rows: list[int]) -> dict[int, Record]:
        """Records of rows dropped after typing, as load_facts shows them: typed spec columns
        (times as UTC datetimes), extras as read."""
        raw = _source(table)
        spec_names = [c.name for c in table.spec.columns]
        found = rows_of(self.con, table.typed, spec_names, rows)
        extras = raw.records(self.con, rows, [n for n in table.columns if n not in spec_names])
        records: dict[int, Record] = {}
        for row, values in found.items():
            record: Record = {}
            for column, value in zip(table.spec.columns, values, strict=True):
                if column.kind is Kind.TIME and isinstance(value, int):
                    value = datetime.fromtimestamp(value, UTC)  # as Arrow's as_py shows it
                record[column.name] = value
            records[row] = record | extras.get(row, {})
        return records

    # -- the relations ------------------------------------------------------------------------

    def publish(self, table: _Table) -> str:
        """The view of the good rows: every spec column in order, then extras read."""
        name = self._name("VIEW", table.spec.name)
        if table.source is None:
            values = ", ".join(f"{null_value(c)} AS {quote(c.name)}" for c in table.spec.columns)
            self.con.execute(f"CREATE TEMP VIEW {name} AS SELECT {values} WHERE false")
            return name
        columns = ", ".join(quote(c) for c in table.columns)
        self.con.execute(f"CREATE TEMP VIEW {name} AS SELECT {columns} FROM ({_kept(table)})")
        return name


# errors of the machine or of our SQL, not of the file being read
_NOT_THE_FILE = (
    duckdb.OutOfMemoryException,
    duckdb.InterruptException,
    duckdb.BinderException,
    duckdb.ParserException,
    duckdb.CatalogException,
)


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A file DuckDB cannot decode (seen only when a query reaches the damage) is a bad facts
    file, named by DuckDB's message when it says which (an anti-join reads two files)."""
    try:
        yield
    except _NOT_THE_FILE:
        raise
    except duckdb.Error as error:
        named = re.search(r'file "([^"]+)"', str(error))
        raise cannot_read(Path(named.group(1)) if named else path, error) from error


def _source(table: _Table) -> RawSource:
    assert table.source is not None, "a table read from a file"
    return table.source


def _value(table: _Table, column: Column) -> str:
    sql = table.sql.get(column.name)
    return sql.value if sql is not None else null_value(column)


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    ((found,),) = con.execute(f"SELECT count(*) FROM ({query})").fetchall()
    return int(found)


def _not_null(table: _Table, name: str) -> bool:
    column = table.spec.column(name)
    return column is not None and column.not_null


def _kept(table: _Table) -> str:
    """SQL of the typed rows not (yet) found bad; no anti-join when there are none."""
    if table.bad_rows == 0:
        return f"SELECT * FROM {table.typed}"
    return f"SELECT * FROM {table.typed} WHERE {ROW} NOT IN (SELECT row FROM {table.bad})"


def _read_texts(kind: Kind, texts: list[str]) -> pa.Array:
    """What load_facts reads from each text (None: bad), through the same conversions."""
    if kind is Kind.TIME:
        instants: list[datetime | None] = []
        for text in texts:
            try:
                instants.append(parse_instant(text))
            except InstantError:
                instants.append(None)
        return pa.array(instants, TIME_TYPE).cast(pa.int64())
    numbers: list[float | None] = []
    for text in texts:
        try:
            numbers.append(float(text))
        except ValueError:
            numbers.append(None)
    return pa.array(numbers, pa.float64())
