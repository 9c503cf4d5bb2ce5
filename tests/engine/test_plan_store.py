"""The checks' compiled SQL kept in a folder: a fresh process reuses it instead of compiling
(seconds), and another shape or another code version compiles again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tests.engine.conftest import order, scan, write_dir

from lvyue.engine import batch, plan_store
from lvyue.engine.batch import evaluate_relations
from lvyue.engine.duck import BATCH_COLUMNS, Session
from lvyue.facts import scan_facts
from lvyue.model.time import parse_instant

AS_OF = parse_instant("2024-03-20 00:00:00")


def _evaluate(facts: Path, rulebook: Any, out: Path, plans: Path) -> None:
    with Session(None) as session:
        relations = scan_facts(session.con, facts, columns=BATCH_COLUMNS).relations
        evaluate_relations(session, relations, AS_OF, rulebook, out, plans=plans)


def test_a_kept_plan_is_run_without_compiling(
    tmp_path: Path, rulebook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = write_dir(tmp_path / "facts", orders=[
        order("shipped", "2024-03-18 10:00:00", ship_time="2024-03-19 10:00:00"),
        order("open", "2024-03-19 10:00:00"),
    ], tracking=[scan("shipped", "2024-03-19 12:00:00")])  # fmt: skip
    plans = tmp_path / "plans"
    monkeypatch.setattr(batch, "_PLANS", {})
    _evaluate(facts, rulebook, tmp_path / "compiled.parquet", plans)
    assert len(list(plans.glob("*.json"))) == 1

    def no_compiling(*_: object) -> None:
        raise AssertionError("compiled although a plan was kept")

    monkeypatch.setattr(batch, "_PLANS", {})  # as in a fresh process
    monkeypatch.setattr(batch.ibis.duckdb, "from_connection", no_compiling)
    _evaluate(facts, rulebook, tmp_path / "kept.parquet", plans)
    compiled, kept = (pq.read_table(tmp_path / f"{n}.parquet") for n in ("compiled", "kept"))
    assert kept.num_rows > 0
    assert kept.equals(compiled)


def test_other_code_is_another_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_store.save(tmp_path, ("shape",), [("step", "SELECT 1")], "SELECT 2")
    assert plan_store.load(tmp_path, ("shape",)) == ([("step", "SELECT 1")], "SELECT 2")
    assert plan_store.load(tmp_path, ("another shape",)) is None
    monkeypatch.setattr(plan_store, "_code", lambda: "another lvyue")
    assert plan_store.load(tmp_path, ("shape",)) is None
    (tmp_path / "broken").mkdir()
    assert plan_store.load(tmp_path / "broken", ("shape",)) is None
