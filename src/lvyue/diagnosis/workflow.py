"""Entry points that tie the pieces together for the CLI and the service: facts directory in,
diagnosis or weekly governance out."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import ibis

from lvyue.diagnosis import governance, source
from lvyue.diagnosis.diagnose import Diagnosis, diagnose
from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.period import Period
from lvyue.diagnosis.state import GovernanceState, WeekReport
from lvyue.diagnosis.thresholds import Thresholds, from_rulebook
from lvyue.diagnosis.weeks import parse_week, week_of, week_start
from lvyue.model.time import from_epoch, to_beijing


def connect(engine: str = "duckdb") -> Any:
    """An Ibis backend: embedded DuckDB (default) or a local PySpark session."""
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":  # the one session builder (UTC, warehouse, one-line errors)
        from lvyue.model.spark import spark_session

        return ibis.pyspark.connect(spark_session())
    raise DiagnosisError(f"engine {engine!r}: duckdb or spark")


def fail(message: str) -> NoReturn:
    raise DiagnosisError(message)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DiagnosisError(f"date {text!r}: expected YYYY-MM-DD") from None


def parse_weeks(text: str) -> list[int]:
    """``2023-W05`` or ``2023-W01..2023-W05``."""
    if ".." in text:
        first, last = (parse_week(p) for p in text.split("..", 1))
        if last < first:
            raise DiagnosisError(f"weeks {text!r}: range ends before it starts")
        return list(range(first, last + 1))
    return [parse_week(text)]


def load_source(facts: Path) -> source.ShipmentSource:
    return source.load(facts)


def thresholds_for_week(week_no: int) -> Thresholds:
    return from_rulebook(week_start(week_no))


def run_week(
    src: source.ShipmentSource, week_no: int, state_dir: Path | None, backend: Any = None
) -> WeekReport:
    """Compute a week's findings; with a state directory, record them and update control."""
    th = thresholds_for_week(week_no)
    findings = governance.compute_week(src.shipments, week_no, th, backend)
    if state_dir is None:
        return WeekReport(week_no, findings, [f for f in findings if f.flagged], [], [], [])
    return GovernanceState(state_dir).record(week_no, findings, th)


def default_period(src: source.ShipmentSource, backend: Any = None) -> Period:
    """From the first to the last payment day in the facts (Beijing)."""
    con = backend if backend is not None else ibis.duckdb.connect()
    t = src.shipments
    row = con.to_pyarrow(t.aggregate(lo=t.pay_s.min(), hi=t.pay_s.max())).to_pylist()[0]
    if row["lo"] is None:
        raise DiagnosisError("facts: no orders")
    first, last = (to_beijing(from_epoch(row[k])).date() for k in ("lo", "hi"))
    return Period(first, last)


def diagnose_facts(
    facts: Path,
    merchant_id: str,
    period: str | None = None,
    state_dir: Path | None = None,
    backend: Any = None,
) -> Diagnosis:
    """The full diagnosis of one merchant from a facts directory (thresholds as of the
    period's last day)."""
    con = backend if backend is not None else ibis.duckdb.connect()
    src = source.load(facts)
    chosen = Period.parse(period) if period else default_period(src, con)
    th = from_rulebook(week_start(week_of(chosen.end)))
    controlled = GovernanceState(state_dir).controlled() if state_dir else {}
    return diagnose(
        src.shipments, src.merchants, merchant_id, chosen, th, controlled, con, src.conversion
    )
