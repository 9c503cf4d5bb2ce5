"""The conversion rules of :mod:`lvyue.facts.convert` as DuckDB SQL, column by column.

Each column gives a typed expression, a condition "the raw value cannot be read" and a condition
"the value is missing", chosen by the column's kind and by the DuckDB type of the raw column
(CSV cells are always VARCHAR; Parquet columns keep their own type). Text that the vectorised
fast path cannot read (times other than ``YYYY-MM-DD HH:MM:SS`` after 1992, numbers) is looked
up in a small residual table filled by Python (:mod:`lvyue.facts.scan`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lvyue.facts.convert import FAST_FORMAT
from lvyue.model.cells import FALSE_WORDS, TRUE_WORDS
from lvyue.model.schema import Column, Kind

# Since 1991-09 Beijing time is UTC+8 all year: the fast path subtracts 8 h only from then on
# (and before year 2100, far from any datetime limit); older or odd text goes to Python.
FAST_FROM, FAST_UNTIL = "1992-01-01", "2100-01-01"
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_NUMERIC = (*_INTEGERS, *("U" + t for t in _INTEGERS), "FLOAT", "DOUBLE")
_NAIVE = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")


@dataclass(frozen=True)
class ColumnSql:
    value: str  # the typed value (VARCHAR, BOOLEAN, DOUBLE, or BIGINT epoch seconds)
    invalid: str  # never NULL: the raw value is there but cannot be read
    missing: str  # never NULL: no value
    residual: str | None = None  # the text to look up in Python's table, if any (else NULL)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def reason(column: Column) -> str:
    """What was wrong with a bad value, in load_facts's words (convert.py)."""
    if column.kind is Kind.ENUM:
        return "not one of " + " | ".join(column.values)
    return {
        Kind.TEXT: "empty",
        Kind.BOOL: "not a boolean",
        Kind.NUMBER: "not a number",
        Kind.TIME: "not an instant",
    }[column.kind]


def null_value(column: Column) -> str:
    """The value of an optional column the file does not have (or was not read)."""
    if column.kind is Kind.BOOL:
        return "false"
    sql_type = {Kind.TIME: "BIGINT", Kind.NUMBER: "DOUBLE"}.get(column.kind, "VARCHAR")
    return f"CAST(NULL AS {sql_type})"


def column_sql(column: Column, raw: str, raw_type: str, lookup: str | None) -> ColumnSql:
    """SQL for ``column`` whose raw value is the expression ``raw`` of DuckDB type ``raw_type``;
    ``lookup`` is the value column of the joined residual table (None: nothing to look up)."""
    text = _text(raw, raw_type)
    if column.kind is Kind.TEXT:
        return ColumnSql(text, "false", f"({text} IS NULL)")
    if column.kind is Kind.ENUM:
        allowed = ", ".join(literal(v) for v in column.values)
        return ColumnSql(text, f"coalesce({text} NOT IN ({allowed}), false)", f"({text} IS NULL)")
    if column.kind is Kind.BOOL:
        return _bool(raw, raw_type, text)
    if column.kind is Kind.NUMBER:
        if raw_type in _NUMERIC:
            return ColumnSql(f"CAST({raw} AS DOUBLE)", "false", f"({raw} IS NULL)")
        return _looked_up(text, lookup, text, "DOUBLE")
    return _time(raw, raw_type, text, lookup)


def _text(raw: str, raw_type: str) -> str:
    """Strings with "" as NULL, taken as written (Arrow and DuckDB print integers alike)."""
    return f"nullif({raw if raw_type == 'VARCHAR' else f'CAST({raw} AS VARCHAR)'}, '')"


def _bool(raw: str, raw_type: str, text: str) -> ColumnSql:
    if raw_type == "BOOLEAN":
        return ColumnSql(f"coalesce({raw}, false)", "false", "false")
    lower = f"lower({text})"
    words = ", ".join(literal(w) for w in TRUE_WORDS)
    every = ", ".join(literal(w) for w in (*TRUE_WORDS, *FALSE_WORDS))
    value = f"coalesce({lower} IN ({words}), false)"
    return ColumnSql(value, f"coalesce({lower} NOT IN ({every}), false)", "false")


def _time(raw: str, raw_type: str, text: str, lookup: str | None) -> ColumnSql:
    # Arrow's unsafe cast to seconds truncates toward zero, as DuckDB's integer // does
    if raw_type in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return _typed_time(f"epoch_ms({raw}) // 1000", raw)
    if raw_type == "TIMESTAMPTZ_NS":
        return _typed_time(f"epoch_ns({raw}) // 1000000000", raw)
    if raw_type in _NAIVE or raw_type == "DATE":  # naive Parquet times are Beijing time
        naive = raw if raw_type != "DATE" else f"CAST({raw} AS TIMESTAMP)"
        return _typed_time(f"epoch_ms(timezone('Asia/Shanghai', {naive})) // 1000", raw)
    parsed = f"try_strptime({text}, {literal(FAST_FORMAT)})"
    fast = (
        f"CASE WHEN {parsed} >= TIMESTAMP '{FAST_FROM}' AND {parsed} < TIMESTAMP '{FAST_UNTIL}'"
        f" AND strftime({parsed}, {literal(FAST_FORMAT)}) = {text}"
        f" THEN epoch_ms({parsed}) // 1000 - 28800 END"
    )
    residual = f"CASE WHEN ({fast}) IS NULL THEN {text} END"
    if lookup is None:
        invalid = f"({text} IS NOT NULL AND ({fast}) IS NULL)"
        return ColumnSql(fast, invalid, f"({text} IS NULL)", residual)
    return _looked_up(text, f"coalesce({fast}, {lookup})", residual, "BIGINT")


def _typed_time(value: str, raw: str) -> ColumnSql:
    return ColumnSql(value, "false", f"({raw} IS NULL)")


def _looked_up(text: str, value: str | None, residual: str, sql_type: str) -> ColumnSql:
    """A value read through the residual table (NULL there: the text cannot be read)."""
    typed = value if value is not None else f"CAST(NULL AS {sql_type})"
    return ColumnSql(
        typed, f"({text} IS NOT NULL AND {typed} IS NULL)", f"({text} IS NULL)", residual
    )
