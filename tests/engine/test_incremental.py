"""Incremental evaluation equals a full re-evaluation, whatever happens between runs: parts
appended to any table (scans, after-sales, new orders, reports, inspection codes), corrected
order rows (a rewritten file: a full run), the clock moving on, a rule published or withdrawn.

Every transition runs once in a fixed script; a hypothesis state machine then tries a few short
random sequences (few and short: each step is two evaluations on a shared 2-core machine)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tests.engine.conftest import order, scan, write_dir
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.engine import evaluate_file
from lvyue.engine import incremental_deltas as deltas
from lvyue.engine import incremental_state as state_layout
from lvyue.engine.incremental import evaluate_incremental
from lvyue.model.time import BEIJING, parse_instant
from lvyue.rulebook import load_rulebook
from lvyue.sim import write_facts

START = parse_instant("2024-03-20 00:00:00")
DRAFT = """announcement: march-relief
title: 三月发货时效放宽（草案）
source: {kind: operator default, ref: test}
clauses:
  - id: MR-1
    parameter: ship.deadline
    value: {hours: 96, after: pay_time}
    window: [2024-03-10 00:00:00, 2024-03-25 23:59:59]
    scope: {merchant_type: [domestic], ship_mode: [spot], flags: {delayed_shipping: false}}
    exception_to: [DR-1a]
    source: 草案：三月付款的订单发货时效放宽至96小时
"""


@cache
def _base() -> Path:
    root = Path(tempfile.mkdtemp(prefix="lvyue-incr-base-"))
    write_facts(root, orders=150, seed=5, progress=False)
    return root


@cache
def _rulebooks() -> tuple[Any, Any]:
    draft = Path(tempfile.mkdtemp(prefix="lvyue-incr-draft-"))
    (draft / "march.yaml").write_text(DRAFT, encoding="utf-8")
    published, drafted = load_rulebook(), load_rulebook(extra_dirs=(draft,))
    published.parameter_table()
    drafted.parameter_table()
    return published, drafted


class Incremental(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="lvyue-incr-"))
        self.facts = self.root / "facts"
        shutil.copytree(_base(), self.facts)
        self.state = self.root / "state"
        self.as_of = START
        self.drafted = False
        self.runs = 0
        self.rewritten = False  # a file seen before changed: the next run is a full one
        self.parts = 0
        self.last: Any = None  # the last incremental run's Increment

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- what can happen between two runs -----------------------------------------------------

    def _table(self, name: str) -> pa.Table:
        """The base file and its parts as one table."""
        parts = sorted((self.facts / name).glob("*.parquet"))
        tables = [pq.read_table(p) for p in [self.facts / f"{name}.parquet", *parts]]
        return pa.concat_tables(tables)

    def _append(self, name: str, rows: list[dict[str, Any]]) -> None:
        """A new part, as a producer appends rows (docs/formats.md)."""
        schema = pq.read_schema(self.facts / f"{name}.parquet")
        (self.facts / name).mkdir(exist_ok=True)
        self.parts += 1
        part = self.facts / name / f"{self.parts:04d}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), part)

    def _rewrite(self, name: str, table: pa.Table) -> None:
        """A correction in place: the base rewritten with its parts folded in."""
        shutil.rmtree(self.facts / name, ignore_errors=True)
        pq.write_table(table, self.facts / f"{name}.parquet")
        self.rewritten = True

    def _recent(self, pick: int) -> dict[str, Any]:
        """One of the 25 orders paid last before the clock (where verdicts still move)."""
        orders = self._table("orders")
        paid = orders.filter(pc.less_equal(orders["pay_time"], pa.scalar(self.as_of)))
        recent = paid.sort_by([("pay_time", "descending")]).slice(0, 25).to_pylist()
        row: dict[str, Any] = recent[pick % len(recent)]
        return row

    @rule(pick=st.integers(0, 99), hours=st.integers(-72, 24),
          kind=st.sampled_from(["pickup", "hub_arrival", "signed"]))  # fmt: skip
    def scan_arrives(self, pick: int, hours: int, kind: str) -> None:
        order = self._recent(pick)
        if order["waybill"] is None:
            return
        at = self.as_of + timedelta(hours=hours)
        scan = {"carrier": order["carrier"], "waybill": order["waybill"], "time": at, "kind": kind}
        self._append("tracking", [scan])

    @rule(pick=st.integers(0, 99), hours=st.integers(-96, 12))
    def aftersale_opens(self, pick: int, hours: int) -> None:
        order = self._recent(pick)
        request = {"aftersale_id": f"AS-new-{pick}-{hours}-{self.runs}",
                   "order_id": order["order_id"], "type": "refund_only",
                   "created_at": self.as_of + timedelta(hours=hours)}  # fmt: skip
        self._append("after_sales", [request])

    @rule(pick=st.integers(0, 99), hours=st.integers(-60, 0))
    def order_corrected(self, pick: int, hours: int) -> None:
        order = self._recent(pick)
        orders = self._table("orders")
        ship = pa.scalar(self.as_of + timedelta(hours=hours), orders.schema.field("ship_time").type)
        hit = pc.equal(orders["order_id"], order["order_id"])
        column = pc.if_else(hit, ship, orders["ship_time"])
        index = orders.schema.get_field_index("ship_time")
        self._rewrite("orders", orders.set_column(index, "ship_time", column))

    @rule(pick=st.integers(0, 99), other=st.integers(0, 99))
    def inspection_code_reused(self, pick: int, other: int) -> None:
        """A correction gives an order another's inspection code: both are now judged reused."""
        first, second = self._recent(pick), self._recent(other)
        orders = self._table("orders")
        hit = pc.equal(orders["order_id"], first["order_id"])
        code = pa.scalar(second["inspection_code"] or f"CODE-{other}", pa.string())
        column = pc.if_else(hit, code, orders["inspection_code"])
        index = orders.schema.get_field_index("inspection_code")
        self._rewrite("orders", orders.set_column(index, "inspection_code", column))

    @rule(pick=st.integers(0, 99), hours=st.integers(-80, 0))
    def order_placed(self, pick: int, hours: int) -> None:
        order = self._recent(pick)
        order.update(order_id=f"new-{pick}-{hours}-{self.runs}", waybill=None, ship_time=None,
                     pay_time=self.as_of + timedelta(hours=hours), promised_ship_time=None,
                     confirmed_receipt_time=None)  # fmt: skip
        self._append("orders", [order])

    @rule(pick=st.integers(0, 99), hours=st.integers(-80, 0))
    def order_placed_on_a_waybill(self, pick: int, hours: int) -> None:
        """A new order shipped on a recent order's waybill, paid days earlier: the waybill's
        scans are kept under the earliest order's day, which is now this order's."""
        order = self._recent(pick)
        if order["waybill"] is None:
            return
        paid = order["pay_time"] - timedelta(days=3)
        order.update(order_id=f"shared-{pick}-{hours}-{self.runs}", pay_time=paid,
                     ship_time=paid + timedelta(hours=20), confirmed_receipt_time=None,
                     promised_ship_time=None, inspection_code=None)  # fmt: skip
        self._append("orders", [order])

    @rule(pick=st.integers(0, 99), hours=st.integers(-48, 6))
    def scan_arrives_as_text(self, pick: int, hours: int) -> None:
        """A part whose time column is text (valid, but typed unlike the base's): the kept
        rows could not be read with it alike, so the next run is a full one."""
        order = self._recent(pick)
        if order["waybill"] is None:
            return
        at = (self.as_of + timedelta(hours=hours)).astimezone(BEIJING)
        (self.facts / "tracking").mkdir(exist_ok=True)
        self.parts += 1
        part = self.facts / "tracking" / f"{self.parts:04d}.parquet"
        pq.write_table(pa.table({"carrier": [order["carrier"]], "waybill": [order["waybill"]],
                                 "time": [at.strftime("%Y-%m-%d %H:%M:%S")],
                                 "kind": ["hub_arrival"]}), part)  # fmt: skip
        self.rewritten = True

    @rule(hours=st.integers(-24, 0))
    def part_corrected(self, hours: int) -> None:
        """A part seen before rewritten (its scans re-dated): a full run."""
        parts = sorted((self.facts / "tracking").glob("*.parquet"))
        if not parts:
            return
        table = pq.read_table(parts[-1])
        times = pa.array([self.as_of + timedelta(hours=hours)] * table.num_rows,
                         pa.timestamp("us", tz="UTC"))  # fmt: skip
        pq.write_table(table.set_column(table.schema.get_field_index("time"), "time", times),
                       parts[-1])  # fmt: skip
        self.rewritten = True

    @rule(pick=st.integers(0, 99), approved=st.booleans())
    def report_filed(self, pick: int, approved: bool) -> None:
        """A report (报备) waiving the order's ship deadline, approved or not."""
        order = self._recent(pick)
        self._append("reports", [{"report_id": f"R-new-{pick}-{self.parts}",
                                  "merchant_id": order["merchant_id"], "type": "force_majeure",
                                  "status": "approved" if approved else "pending",
                                  "order_ids": order["order_id"]}])  # fmt: skip

    @rule(pick=st.integers(0, 99), passed=st.booleans())
    def inspection_recorded(self, pick: int, passed: bool) -> None:
        """The BTAS result of a code no inspection row had yet."""
        order = self._recent(pick)
        code = order["inspection_code"]
        if code is None or code in self._table("inspections")["inspection_code"].to_pylist():
            return
        row = {"inspection_code": code, "merchant_id": order["merchant_id"],
               "result": "pass" if passed else "fail",
               "inspected_at": self.as_of - timedelta(hours=1)}  # fmt: skip
        self._append("inspections", [row])

    @rule(hours=st.sampled_from([1, 6, 13, 49]))
    def clock_moves(self, hours: int) -> None:
        self.as_of += timedelta(hours=hours)

    @rule()
    def rule_published_or_withdrawn(self) -> None:
        self.drafted = not self.drafted

    # -- after each step ------------------------------------------------------------------------

    @invariant()
    def incremental_equals_full(self) -> None:
        rulebook = _rulebooks()[1 if self.drafted else 0]
        self.runs += 1
        inc_out, full_out = self.root / "inc.parquet", self.root / "full.parquet"
        run = evaluate_incremental(self.facts, self.as_of, rulebook, self.state, inc_out)
        self.last = run
        evaluate_file(self.facts, self.as_of, rulebook, full_out)
        assert run.full == (self.runs == 1 or self.rewritten)
        self.rewritten = False
        assert run.evaluated <= run.orders
        incremental, full = pq.read_table(inc_out), pq.read_table(full_out)
        assert incremental.num_rows == full.num_rows == run.rows
        # the same values and types; DuckDB's not-null flags follow its plan, not the data
        assert incremental.schema.types == full.schema.types
        assert incremental.cast(full.schema).equals(full)


def test_every_transition_once() -> None:
    """Each kind of change, in one sequence, checked after each step."""
    machine = Incremental()
    try:
        machine.incremental_equals_full()
        steps = [
            lambda: machine.scan_arrives(3, -5, "pickup"),
            lambda: machine.scan_arrives(4, 2, "hub_arrival"),  # dated after the clock
            lambda: machine.aftersale_opens(5, -30),
            lambda: machine.report_filed(6, True),
            lambda: machine.inspection_recorded(7, False),
            lambda: machine.order_placed(8, -2),
            lambda: machine.order_placed_on_a_waybill(12, -10),
            lambda: machine.scan_arrives(12, -1, "signed"),
            lambda: machine.scan_arrives_as_text(13, -3),
            lambda: machine.part_corrected(-4),
            lambda: machine.clock_moves(13),
            lambda: machine.rule_published_or_withdrawn(),
            lambda: machine.order_corrected(9, -20),
            lambda: machine.inspection_code_reused(10, 11),
        ]
        for step in steps:
            step()
            machine.incremental_equals_full()
    finally:
        machine.teardown()


Incremental.TestCase.settings = settings(
    max_examples=2, stateful_step_count=4, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
TestIncremental = Incremental.TestCase


def test_cli_state_rejudges_only_what_changed(tmp_path: Path) -> None:
    facts = write_dir(tmp_path / "facts", orders=[
        order("done", "2024-03-01 10:00:00", ship_time="2024-03-02 10:00:00"),
        order("open", "2024-03-19 10:00:00"),
    ], tracking=[scan("done", "2024-03-02 12:00:00")])  # fmt: skip
    state, runner = tmp_path / "state", CliRunner()

    def run(as_of: str, out: Path) -> str:
        result = runner.invoke(app, ["evaluate", str(facts), "--as-of", as_of, "--out", str(out),
                                     "--state", str(state)])  # fmt: skip
        assert result.exit_code == 0, result.output
        return result.output

    assert "re-judged 2 of 2 orders (full 2)" in run("2024-03-20 00:00:00", tmp_path / "a.csv")
    later = run("2024-03-22 00:00:00", tmp_path / "b.csv")
    assert "re-judged 1 of 2 orders (clock 1)" in later  # only the open one: its clock moved
    full = runner.invoke(app, ["evaluate", str(facts), "--as-of", "2024-03-22 00:00:00",
                               "--out", str(tmp_path / "full.csv")])  # fmt: skip
    assert full.exit_code == 0, full.output
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()


_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_run_on_a_state_in_use_is_refused_and_a_killed_run_frees_it(
    tmp_path: Path,
) -> None:
    """One run at a time per state (two would write run N's files over each other's): the
    second exits 2 with one line and changes nothing; a holder killed with SIGKILL leaves no
    stale lock (the kernel releases it), and the next run goes on from the watermark."""
    facts = write_dir(tmp_path / "facts", orders=[order("open", "2024-03-19 10:00:00")])
    state, runner = tmp_path / "state", CliRunner()

    def run(as_of: str) -> Any:
        return runner.invoke(app, ["evaluate", str(facts), "--as-of", as_of, "--out",
                                   str(tmp_path / "v.csv"), "--state", str(state)])  # fmt: skip

    assert run("2024-03-20 00:00:00").exit_code == 0
    mark = (state / state_layout.MARK).read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(state / state_layout.LOCK)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = run("2024-03-22 00:00:00")
        assert refused.exit_code == 2, refused.output
        assert "another evaluation is using this state" in refused.output
        assert "Traceback" not in refused.output
        assert (state / state_layout.MARK).read_bytes() == mark  # untouched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    after = run("2024-03-22 00:00:00")
    assert after.exit_code == 0, after.output
    assert "re-judged 1 of 1 orders (clock 1)" in after.output


def test_days_cut_in_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """With several buckets a day (as at 10 M orders), a re-judged order's old verdicts are
    replaced in its own bucket and the others kept."""
    monkeypatch.setattr(state_layout, "PART_ROWS", 2)
    machine = Incremental()
    try:
        machine.incremental_equals_full()
        assert len(list((machine.state / "verdicts").glob("day=*/bucket=2"))) > 0
        for step in (lambda: machine.scan_arrives(3, -5, "pickup"),
                     lambda: machine.aftersale_opens(5, -30), lambda: machine.clock_moves(13),
                     lambda: machine.order_placed_on_a_waybill(12, -10)):  # fmt: skip
            step()
            machine.incremental_equals_full()
    finally:
        machine.teardown()


def _steps(machine: Incremental) -> list[Any]:
    """Changes that leave the run incremental: scans, after-sales, new orders (one on an
    earlier order's waybill), reports, a rule change and the clock."""
    return [
        lambda: machine.scan_arrives(3, -5, "pickup"),
        lambda: machine.aftersale_opens(5, -30),
        lambda: machine.clock_moves(6),
        lambda: machine.scan_arrives(3, -1, "signed"),  # the same order again: a later delta
        lambda: machine.order_placed_on_a_waybill(12, -10),
        lambda: machine.rule_published_or_withdrawn(),
        lambda: machine.report_filed(6, True),
        lambda: machine.aftersale_opens(3, -2),
        lambda: machine.clock_moves(13),
    ]


@pytest.mark.parametrize("most", [2, 1000])
def test_deltas_kept_and_folded(monkeypatch: pytest.MonkeyPatch, most: int) -> None:
    """Run after run appends a delta, reads merge them (latest run wins per order); past
    ``most`` deltas a run folds them into the partitions: equal to a full run throughout."""
    monkeypatch.setattr(deltas, "MAX_DELTAS", most)
    monkeypatch.setattr(deltas, "MAX_DELTA_SHARE", 1000.0)  # the count alone decides here
    machine = Incremental()
    kept, folds = [], 0
    try:
        machine.incremental_equals_full()
        for step in _steps(machine):
            step()
            machine.incremental_equals_full()
            run = machine.last
            assert not run.full and run.deltas == len(state_layout.delta_files(machine.state))
            assert run.deltas <= most
            kept.append(run.deltas)
            folds += run.partitions > 0
    finally:
        machine.teardown()
    assert max(kept) >= 2  # several deltas were merged at once
    assert folds == (0 if most == 1000 else len(_steps(machine)) // (most + 1))


def test_share_bound_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deltas holding more than MAX_DELTA_SHARE of the verdicts are folded by the run."""
    monkeypatch.setattr(deltas, "MAX_DELTA_SHARE", 0.0)
    machine = Incremental()
    try:
        machine.incremental_equals_full()
        machine.scan_arrives(3, -5, "pickup")
        machine.incremental_equals_full()
        assert machine.last.partitions > 0 and machine.last.deltas == 0
        assert not (machine.state / state_layout.DELTAS).exists()
    finally:
        machine.teardown()


class _Crash(Exception):
    pass


@pytest.mark.parametrize("where", ["after the delta", "mid-compaction"])
def test_a_crash_leaves_a_usable_state(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """A run that dies after writing its delta, or after folding some partitions but before
    removing the deltas, left no watermark: the next run is a full one, equal to a full run
    (and it drops the stray deltas)."""
    machine = Incremental()
    try:
        machine.incremental_equals_full()
        machine.scan_arrives(3, -5, "pickup")
        machine.incremental_equals_full()  # one delta kept
        machine.aftersale_opens(5, -30)
        if where == "after the delta":
            monkeypatch.setattr(deltas, "due", _raise)
        else:
            moved: list[Path] = []  # the second partition's move dies

            def move(source: Path, target: Path) -> None:
                if moved:
                    raise _Crash
                moved.append(target)
                os.replace(source, target)

            monkeypatch.setattr(deltas, "due", lambda state, counts: True)
            monkeypatch.setattr(deltas, "_move", move)
        with pytest.raises(_Crash):
            machine.incremental_equals_full()
        assert state_layout.delta_files(machine.state)  # its delta (or the folded ones) left
        monkeypatch.undo()
        machine.rewritten = True  # no watermark: the next run must be a full one
        machine.incremental_equals_full()
        assert not state_layout.delta_files(machine.state)
    finally:
        machine.teardown()


def _raise(*args: object, **kwargs: object) -> bool:
    raise _Crash
