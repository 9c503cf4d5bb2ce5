"""A world living at an instant holds nothing after it (``sim.cut``), and the cut changes no
verdict judged at that instant."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.sim import simulate, write_facts

NOW = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)
AS_OF = "2024-02-10 12:00:00"  # NOW in Beijing
# Deadlines and periods are promises, not events: they may lie after the instant.
PROMISES = {"promised_ship_time", "new_deadline", "period_start", "period_end"}


def test_no_instant_of_any_table_lies_after_the_instant() -> None:
    tables = simulate(1000, 20240214, live_at=NOW, peers=3)
    whole = simulate(1000, 20240214, live_at=NOW, peers=3, cut=False)
    checked = 0
    for name, table in tables.items():
        for field in table.schema:
            if pa.types.is_timestamp(field.type) and field.name not in PROMISES:
                latest = pc.max(table[field.name]).as_py()
                assert latest is None or latest <= NOW, (name, field.name, latest)
                checked += 1
    assert checked >= 15
    later = pc.greater(whole["orders"]["confirmed_receipt_time"], NOW)
    assert pc.sum(later).as_py() > 0  # the uncut world does run past the instant
    orders = tables["orders"]
    unshipped = pc.is_null(orders["ship_time"])
    assert pc.sum(pc.is_valid(orders["carrier"].filter(unshipped))).as_py() == 0
    assert pc.sum(pc.is_valid(orders["waybill"].filter(unshipped))).as_py() == 0
    assert len(tables["tracking"]) < len(whole["tracking"])
    assert len(tables["after_sales"]) <= len(whole["after_sales"])


def _verdicts(facts: Path, tmp: Path) -> pa.Table:
    out = tmp / f"{facts.name}.parquet"
    args = ["evaluate", str(facts), "--as-of", AS_OF, "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    keys = [c for c in ("order_id", "aftersale_id", "check") if c in table.column_names]
    return table.sort_by([(k, "ascending") for k in keys])


def test_the_cut_changes_no_verdict_at_the_instant(tmp_path: Path) -> None:
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    write_facts(cut, 600, 11, progress=False, live_at=NOW)
    write_facts(whole, 600, 11, progress=False, live_at=NOW, cut=False)
    assert (
        pq.read_table(cut / "tracking.parquet").num_rows
        < pq.read_table(whole / "tracking.parquet").num_rows
    )
    a, b = _verdicts(cut, tmp_path), _verdicts(whole, tmp_path)
    assert a.num_rows > 0
    assert a.equals(b)
