"""CLI for the compliance engine: evaluate, explain, at-risk, preview, penalties.

Presentation only: the logic lives in :mod:`lvyue.engine` and :mod:`lvyue.facts`.
Exit codes: 0 done, 2 bad input (facts, rulebook, arguments).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import pyarrow as pa
import typer
from rich.box import SIMPLE
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from lvyue.cli import Terminal
from lvyue.engine import evaluate_file, order_facts
from lvyue.engine.batch import Backend, at_risk_verdicts
from lvyue.engine.duck import DEFAULT_MEMORY_LIMIT
from lvyue.engine.explain import Explanation, explain_order
from lvyue.engine.incremental import evaluate_incremental
from lvyue.engine.incremental_state import StateBusy
from lvyue.engine.output import parse_horizon, write_verdicts
from lvyue.engine.penalties import late_orders_of, penalties
from lvyue.engine.preview import PenaltyTotals, preview
from lvyue.engine.verdict import INTERVENED_REFUND, INTERVENED_SHIPPING
from lvyue.facts import FactsError, load_orders, write_quarantine
from lvyue.model.clock import business_now
from lvyue.model.labels import check_zh, status_zh, violation_zh
from lvyue.model.spark import SparkError
from lvyue.model.table_files import check_out, write_table
from lvyue.model.time import InstantError, format_beijing, parse_instant
from lvyue.rulebook import ConflictError, Rulebook, RulebookError, format_value, load_rulebook

console = Terminal()
err = Terminal(stderr=True)

FactsOpt = Annotated[Path, typer.Option("--facts", help="Facts directory (docs/formats.md).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Evaluate as of this instant (Beijing if naive).")
]
EngineOpt = Annotated[str, typer.Option("--engine", help="Batch engine: duckdb or spark.")]
RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra announcement directory (repeatable)."),
]
SkipBadOpt = Annotated[
    bool, typer.Option("--skip-bad", help="Quarantine bad rows instead of stopping.")
]
_TOP = 30  # merchants shown on the console by `penalties`; the file has them all
_STYLE = {"ok": "green", "violated": "bold red", "pending": "yellow", "at_risk": "bold yellow",
          "exempted": "cyan", "scheduled": "blue", "review": "magenta"}  # fmt: skip


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def _out(out: Path | None) -> None:
    """.csv, .parquet or .xlsx (a real workbook), refused before any work otherwise."""
    if out is not None:
        try:
            check_out(out)
        except ValueError as exc:
            _fail(f"--out: {exc}")


def _as_of(text: str | None) -> datetime:
    if text is None:
        return business_now()
    try:
        return parse_instant(text)
    except InstantError as exc:
        _fail(f"--as-of: {exc}")


def _engine(name: str) -> Backend:
    if name not in ("duckdb", "spark"):
        _fail(f"--engine: {name!r} is not duckdb or spark")
    return "spark" if name == "spark" else "duckdb"


def _horizon(text: str, option: str) -> timedelta:
    try:
        return parse_horizon(text)
    except ValueError as exc:
        _fail(f"{option}: {exc}")


def _rulebook(extra: list[Path] | None) -> Rulebook:
    try:
        rb = load_rulebook(extra_dirs=tuple(extra or ()))
        rb.parameter_table()  # conflicts surface here, before any facts are read
        return rb
    except (RulebookError, ConflictError) as exc:
        _fail(f"rulebook: {exc}")


def _print_counts(counts: dict[str, tuple[int, int, int]]) -> None:
    table = Table("table", "read", "kept", "quarantined", title="facts", title_justify="left")
    for name, (read, kept, bad) in counts.items():
        table.add_row(name, str(read), str(kept), str(bad))
    console.print(table)


def _summary(counts: Counter[tuple[str, str]], title: str = "verdicts") -> Table:
    """Checks and statuses by their Chinese labels (80 columns); codes are in the file."""
    statuses = sorted({s for _, s in counts})
    table = Table("检查项", *(status_zh(s) for s in statuses), "合计", title=title,
                  title_justify="left", box=SIMPLE)  # fmt: skip
    for check in sorted({c for c, _ in counts}):
        row = [counts.get((check, s), 0) for s in statuses]
        cells = [
            f"[{_STYLE.get(s, '')}]{n}[/]" if n else "·" for s, n in zip(statuses, row, strict=True)
        ]
        table.add_row(check_zh(check), *cells, str(sum(row)))
    return table


@contextmanager
def _percent(label: str) -> Iterator[Callable[[float], None]]:
    """A Rich progress bar fed with DuckDB's percent done (from its polling thread)."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err.make(), transient=True) as progress:  # fmt: skip
        task = progress.add_task(label, total=100)
        yield lambda done: progress.update(task, completed=done)


def _short_time(moment: datetime) -> str:
    """03-30 21:49 (Beijing): the year and seconds are in the file."""
    return format_beijing(moment)[5:16]


def _short(moment: datetime | None) -> str:
    return _short_time(moment) if moment is not None else "—"


def _left(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _fmt(moment: datetime | None) -> str:
    return format_beijing(moment) if moment is not None else "—"


def evaluate(
    facts_dir: Annotated[Path, typer.Argument(help="Facts directory.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Evaluate as of this instant.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Verdicts file (.csv or .parquet); optional with --state."),
    ] = None,
    engine: EngineOpt = "duckdb",
    at_risk_within: Annotated[str, typer.Option(help="Pending within this → at_risk.")] = "12h",
    skip_bad: SkipBadOpt = False,
    quarantine: Annotated[Path | None, typer.Option(help="Quarantine file (CSV).")] = None,
    rules: RulesOpt = None,
    memory_limit: Annotated[
        str, typer.Option(help="DuckDB memory limit (it spills beyond); '' for DuckDB's default.")
    ] = DEFAULT_MEMORY_LIMIT,
    state: Annotated[
        Path | None,
        typer.Option(help="State directory: re-judge only what changed since its last run."),
    ] = None,
) -> None:
    """Hold every order to the rule in force: one verdict per order (or request) and check."""
    if out is None and state is None:
        _fail("--out: a verdicts file is required (or --state: the state keeps them)")
    if out is not None and out.suffix not in (".csv", ".parquet"):  # streamed
        _fail(f"--out: {out} must end in .csv or .parquet (verdicts stream; no .xlsx)")
    moment, backend = _as_of(as_of), _engine(engine)
    horizon = _horizon(at_risk_within, "--at-risk-within")
    rb = _rulebook(rules)
    if state is not None:
        if skip_bad:
            _fail("--state: incremental runs need clean facts (no --skip-bad)")
        _incremental(facts_dir, moment, rb, state, out, backend, horizon, memory_limit)
        return
    assert out is not None
    try:
        with _percent(f"evaluating on {backend}") as progress:
            run = evaluate_file(facts_dir, moment, rb, out, backend=backend, horizon=horizon,
                                skip_bad=skip_bad, memory_limit=memory_limit or None,
                                progress=progress)  # fmt: skip
    except (FactsError, SparkError) as exc:
        _fail(str(exc))
    except duckdb.OutOfMemoryException:
        _fail(f"out of memory within --memory-limit {memory_limit or '(DuckDB default)'}: "
              "raise it, or free memory")  # fmt: skip
    if run.quarantine:
        target = quarantine or facts_dir / "quarantine.csv"
        count = write_quarantine(run.quarantine, target)
        err.print(f"[yellow]{count} bad rows quarantined to {target}[/]")
    _print_counts(run.facts_counts)
    title = f"{run.rows:,} verdicts as of {format_beijing(moment)} → {out}"
    console.print(_summary(run.counts, title))


def _incremental(
    facts_dir: Path, moment: datetime, rb: Rulebook, state: Path, out: Path | None,
    backend: Backend,
    horizon: timedelta, memory_limit: str,
) -> None:  # fmt: skip
    try:
        with console.status(f"evaluating {facts_dir} against {state} …"):
            run = evaluate_incremental(facts_dir, moment, rb, state, out, backend=backend,
                                       horizon=horizon,
                                       memory_limit=memory_limit or None)  # fmt: skip
    except (FactsError, SparkError, StateBusy) as exc:
        _fail(str(exc))
    why = ", ".join(f"{k} {v:,}" for k, v in sorted(run.reasons.items()))
    console.print(f"re-judged {run.evaluated:,} of {run.orders:,} orders ({why}), "
                  f"{run.partitions:,} partitions rewritten, "
                  f"{run.deltas:,} deltas kept")  # fmt: skip
    title = f"{run.rows:,} verdicts as of {format_beijing(moment)} → {out or state}"
    console.print(_summary(run.counts, title))


def explain(
    order_id: Annotated[str, typer.Argument(help="The order to explain.")],
    facts: FactsOpt,
    as_of: AsOfOpt = None,
    rules: RulesOpt = None,
) -> None:
    """An order's timeline, every deadline with its clause, and why other clauses did not apply."""
    moment, rb = _as_of(as_of), _rulebook(rules)
    try:
        with console.status(f"reading {facts} …"):
            loaded = load_orders(facts, [order_id])
    except FactsError as exc:
        _fail(str(exc))
    found = order_facts(loaded, order_id)
    if found is None:
        _fail(f"order {order_id!r} is not in {facts}")
    explanation = explain_order(found, moment, rb)
    _render_explanation(explanation)
    _render_clause_texts(explanation, rb)


def _render_clause_texts(ex: Explanation, rb: Rulebook) -> None:
    """What each deciding clause says: the normalised text (the seeds' garbled sentences made
    readable), else the source as found; `rules show ID` has both."""
    cited = dict.fromkeys(c for s in ex.steps for c in s.verdict.clauses.split(";") if c)
    table = Table(box=None, pad_edge=False, show_header=False, title_justify="left",
                  title="what the clauses say 条款原文", padding=(0, 1, 0, 0))  # fmt: skip
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")  # each text folded under itself, its id beside it
    for ref in cited:
        clause_id, _, revision = ref.partition("@")
        versions = [v for v in rb.clause_versions(clause_id) if (v.revision or "") == revision]
        if versions:
            table.add_row(ref, escape(versions[-1].readable))
    if table.row_count:
        console.print(table)


def _render_explanation(ex: Explanation) -> None:
    """80 columns: the timeline in Chinese with the codes beside, the verdicts, and the clauses
    considered grouped by check (one line per clause, the reason folded under it)."""
    o, flags = ex.order.order, ex.order.flags
    head = (f"{o.order_id} · merchant {o.merchant_id} ({o.merchant_type.value}) · "
            f"{o.category} · {o.ship_mode.value}"
            + (f" · flags {', '.join(sorted(flags))}" if flags else ""))  # fmt: skip
    console.print(Panel(head, title=f"order as of {format_beijing(ex.as_of)}", expand=False))
    timeline = Table("when (Beijing)", "what 事件", title="timeline 时间线", title_justify="left",
                     box=None, pad_edge=False)  # fmt: skip
    for moment, what in ex.timeline:
        timeline.add_row(format_beijing(moment), escape(_event_zh(what)))
    console.print(timeline)
    verdicts = Table("检查项", "售后单", "状态", "截止", "完成", "条款", title="verdicts 判定",
                     title_justify="left", box=SIMPLE)  # fmt: skip
    for step in ex.steps:
        v = step.verdict
        label = status_zh(v.status.value)
        if v.status.value == "violated":  # 发货超时, 虚假发货 …: the name merchants know
            label = violation_zh(v.check.value, v.reason)
        status = f"[{_STYLE.get(v.status.value, '')}]{label}[/]"
        verdicts.add_row(check_zh(v.check.value), v.aftersale_id, status, _short(v.deadline),
                         _short(v.done_at), v.clauses)  # fmt: skip
    console.print(verdicts)
    for step in ex.steps:  # VF-8a: what the platform's intervention means for the settlement
        if step.verdict.reason in (INTERVENED_REFUND, INTERVENED_SHIPPING):
            console.print(f"[yellow]{escape(step.verdict.detail)}[/]")
    _render_traces(ex)
    for note in ex.notes:
        console.print(f"[yellow]{note}[/]")


_SCAN_ZH = {"info_received": "下单", "pickup": "揽收", "hub_arrival": "到达分拨中心",
            "hub_departure": "离开分拨中心", "in_transit": "在途", "customs": "清关",
            "warehouse_in": "集货入库", "out_for_delivery": "派件", "signed": "签收",
            "exception": "疑难件", "returned": "退回"}  # fmt: skip
_AFTERSALE_ZH = {"created_at": "申请售后", "merchant_handled_at": "商家处理",
                 "return_shipped_at": "消费者寄回", "merchant_received_at": "商家确认收货",
                 "return_signed_at": "退货签收", "refunded_at": "退款"}  # fmt: skip
_AFTERSALE_TYPE_ZH = {"refund_only": "仅退款", "return_refund": "退货退款", "exchange": "换货"}


def _event_zh(what: str) -> str:
    """A timeline event as people read it (揽收 pickup; 售后 AS… 退货退款: 申请售后), the codes
    kept beside; anything else as the engine wrote it."""
    if match := re.fullmatch(r"tracking: (\w+)", what):
        return f"{_SCAN_ZH.get(match[1], '物流')} {match[1]}"
    if match := re.fullmatch(r"after-sales (\S+) \((\w+)\): (\w+)", what):
        kind = _AFTERSALE_TYPE_ZH.get(match[2], match[2])
        return f"{_AFTERSALE_ZH.get(match[3], match[3])} · 售后 {match[1]} {kind}"
    return what


def _render_traces(ex: Explanation) -> None:
    """Every clause considered, under its check and parameter: ✔ the one that decided, ✘ the
    others with why (out of window, out of scope, overridden); one small table per parameter
    with the same column widths, so they read as one list."""
    console.print("[bold]clauses considered 适用条款[/]")
    for step in ex.steps:
        check = step.verdict.check.value
        suffix = f" {step.verdict.aftersale_id}" if step.verdict.aftersale_id else ""
        for parameter, traces in step.traces.items():
            table = Table(box=None, pad_edge=False, show_header=False, title_justify="left",
                          title=f"{check_zh(check)} {parameter}{suffix}")  # fmt: skip
            table.add_column(width=1)
            table.add_column(width=7, overflow="fold")
            table.add_column(width=24, overflow="fold")
            table.add_column(overflow="fold")
            for t in traces:
                value = format_value(t.value) if t.value is not None else ""
                value = re.sub(r"^(.+) after (\S+)$", r"\2 +\1", value)  # pay_time +48 h
                decided = t.applies and not t.overridden_by
                mark = "[green]✔[/]" if decided else "[dim]✘[/]"
                table.add_row(mark, t.clause_id, escape(value), escape(t.reason))
            console.print(table)


def at_risk(
    facts: Annotated[
        Path | None, typer.Option("--facts", help="Facts directory (docs/formats.md).")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Or: the service's live verdicts (a database URL)."),
    ] = None,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help="With --database: one merchant's.")
    ] = None,
    as_of: AsOfOpt = None,
    within: Annotated[str, typer.Option("--within", help="Horizon, e.g. 12h.")] = "12h",
    engine: EngineOpt = "duckdb",
    out: Annotated[
        Path | None, typer.Option(help="Also write them (.csv, .parquet or .xlsx).")
    ] = None,
    rules: RulesOpt = None,
) -> None:
    """Pending verdicts that will breach within the horizon, soonest first: evaluated from a
    facts directory (--facts), or read from the service's live verdicts (--database, kept by
    `lvyue worker`; --within at most the worker's 12 h horizon)."""
    _out(out)
    if (facts is None) == (database is None):
        _fail("give one of --facts DIR or --database URL")
    moment, backend, horizon = _as_of(as_of), _engine(engine), _horizon(within, "--within")
    if database is not None:
        risky = _live_at_risk(database, moment, merchant, horizon)
    else:
        assert facts is not None
        rb = _rulebook(rules)
        try:
            with console.status(f"evaluating {facts} …"):
                risky = at_risk_verdicts(facts, moment, rb, backend=backend, horizon=horizon)
        except (FactsError, SparkError) as exc:
            _fail(str(exc))
    table = Table("截止 deadline", "剩余", "订单 order", "检查项", "商家", "条款",
                  title=f"{risky.num_rows} at risk within {within} (即将超时)",
                  title_justify="left", box=SIMPLE)  # fmt: skip
    for row in risky.slice(0, 50).to_pylist():
        order = row["order_id"] + (f"/{row['aftersale_id']}" if row["aftersale_id"] else "")
        table.add_row(_short_time(row["deadline"]), _left(row["deadline"] - moment), order,
                      check_zh(row["check"]), row["merchant_id"], row["clauses"])  # fmt: skip
    console.print(table)
    if risky.num_rows > 50:
        console.print(f"… and {risky.num_rows - 50} more")
    if out is not None and out.suffix.lower() == ".xlsx":
        write_table(risky, out)
    elif out is not None:
        write_verdicts(iter(risky.to_batches()), out)


def _live_at_risk(url: str, moment: datetime, merchant: str | None, within: timedelta) -> pa.Table:
    """The service's at-risk live verdicts (one definition: ``store.live.at_risk``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from lvyue.engine.online import DEFAULT_HORIZON
    from lvyue.engine.verdict import VERDICT_SCHEMA
    from lvyue.store import make_engine, make_session_factory
    from lvyue.workflows.live import at_risk_table

    if within > DEFAULT_HORIZON:
        _fail(f"--within: at most {DEFAULT_HORIZON} with --database (the worker's horizon)")
    engine = make_engine(url)
    try:
        found = at_risk_table(make_session_factory(engine), moment, merchant, within)
    except SQLAlchemyError as exc:
        _fail(f"--database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    return pa.Table.from_pylist([v.row() for v in found], VERDICT_SCHEMA)


def preview_cmd(
    draft: Annotated[Path, typer.Option("--draft", help="Draft announcement directory.")],
    facts: FactsOpt,
    as_of: AsOfOpt = None,
    engine: EngineOpt = "duckdb",
    out: Annotated[
        Path | None, typer.Option(help="Write the changed verdicts (.csv, .parquet or .xlsx).")
    ] = None,
) -> None:
    """Evaluate with and without a draft announcement: the verdicts it would change."""
    _out(out)
    moment, backend = _as_of(as_of), _engine(engine)
    if not draft.is_dir():
        _fail(f"--draft: {draft} is not a directory")
    published, drafted = _rulebook(None), _rulebook([draft])
    try:
        with console.status(f"evaluating {facts} with and without the draft …"):
            result = preview(facts, moment, published, drafted, backend=backend)
    except (FactsError, SparkError) as exc:
        _fail(str(exc))
    console.print(
        f"{result.changes.num_rows:,} of {result.verdicts:,} verdicts would change; "
        f"[bold]{result.status_changes:,} change status[/] (the rest only a deadline or clause)"
    )
    _print_penalty_effect(result.penalties_before, result.penalties_after)
    for title, grouped, key in (("by clause", result.by_clause, "clauses_after"),
                                ("by merchant", result.by_merchant, "merchant_id")):  # fmt: skip
        table = Table(key, "检查项 check", "变化 change", "verdicts", title=title,
                      title_justify="left", box=SIMPLE)  # fmt: skip
        for row in grouped.slice(0, 30).to_pylist():
            change = " → ".join(status_zh(x.strip()) for x in row["change"].split("→"))
            table.add_row(row[key] or "—", check_zh(row["check"]), change, str(row["verdicts"]))
        console.print(table)
    if out is not None:
        write_table(result.changes, out)


def _print_penalty_effect(before: PenaltyTotals | None, after: PenaltyTotals | None) -> None:
    """What the draft does to DR-6 penalties: late orders, points, deposit, bans."""
    if before is None or after is None:
        return
    table = Table("DR-6 罚则", "published", "with draft", "change", title="penalties 处罚",
                  title_justify="left", box=SIMPLE)  # fmt: skip
    rows: list[tuple[str, float, float]] = [
        ("late orders 发货超时", before.late_orders, after.late_orders),
        ("points 扣分", before.points, after.points),
        ("deposit yuan 保证金", before.deduction_yuan, after.deduction_yuan),
        ("product bans 禁售", before.product_bans, after.product_bans),
    ]
    for label, old, new in rows:
        table.add_row(label, f"{old:,.1f}", f"{new:,.1f}", f"{new - old:+,.1f}")
    console.print(table)


def penalties_cmd(
    facts: FactsOpt,
    out: Annotated[Path, typer.Option("--out", help="Penalties file (.csv, .parquet or .xlsx).")],
    as_of: AsOfOpt = None,
    engine: EngineOpt = "duckdb",
    rules: RulesOpt = None,
) -> None:
    """DR-6 late-shipment penalties: points, deposit deductions and product bans, with caps."""
    _out(out)
    moment, backend, rb = _as_of(as_of), _engine(engine), _rulebook(rules)
    try:
        with console.status(f"evaluating {facts} …"):
            lates, counts = late_orders_of(facts, moment, rb, backend=backend)
        result = penalties(lates, moment, rb)
    except (FactsError, SparkError) as exc:
        _fail(str(exc))
    except LookupError as exc:
        _fail(f"rulebook: {exc}")
    write_table(result, out)
    grouped = result.group_by("merchant_id").aggregate(
        [("order_id", "count"), ("points", "sum"), ("deduction_yuan", "sum"),
         ("product_banned", "sum")]
    ).sort_by([("points_sum", "descending"), ("merchant_id", "ascending")])  # fmt: skip
    shown = f"the {_TOP} most penalised of {grouped.num_rows}" if grouped.num_rows > _TOP else ""
    table = Table("merchant", "late orders", "points", "deposit yuan", "bans",
                  title=f"penalties → {out} {shown}", title_justify="left")  # fmt: skip
    for row in grouped.slice(0, _TOP).to_pylist():
        points, yuan = f"{row['points_sum']:.1f}", f"{row['deduction_yuan_sum']:.0f}"
        table.add_row(row["merchant_id"], str(row["order_id_count"]), points, yuan,
                      str(row["product_banned_sum"]))  # fmt: skip
    console.print(table)
    console.print(_summary(counts))


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    app.command()(evaluate)
    app.command()(explain)
    app.command("at-risk")(at_risk)
    app.command("preview")(preview_cmd)
    app.command("penalties")(penalties_cmd)
