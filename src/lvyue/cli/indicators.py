"""CLI for VF-8's abnormal indicators and graded measures: ``lvyue indicators``.
Presentation only: the logic lives in lvyue.indicators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.box import SIMPLE
from rich.table import Table

from lvyue.cli import Terminal
from lvyue.model.time import InstantError, format_beijing, parse_instant

console = Terminal()
err = Terminal(stderr=True, soft_wrap=True)
T = TypeVar("T")
_TOP = 30  # findings shown on the console; the file has them all

FactsArg = Annotated[Path, typer.Argument(help="facts directory (docs/formats.md)")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="judge as of this instant (default: now)")
]
EngineOpt = Annotated[str, typer.Option("--engine", help="duckdb or spark")]
RulesOpt = Annotated[
    list[Path] | None, typer.Option("--rules", help="draft announcements (overrides)")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help=".csv, .parquet or .xlsx")]


def narrow_table(title: str, *headers: str) -> Table:
    """A table for 80 columns: no cell cut short. A header ending in ``~`` folds its cells
    (ids, free text); every other cell is kept on one line whole (dates, names, clauses).
    Columns are two spaces apart (one of padding, the box's own), not three."""
    table = Table(box=SIMPLE, title=title, title_justify="left", pad_edge=False,
                  padding=(0, 1, 0, 0))  # fmt: skip
    for header in headers:
        folds = header.endswith("~")
        table.add_column(header.rstrip("~"), no_wrap=not folds,
                         overflow="fold" if folds else "ellipsis")  # fmt: skip
    return table


def show_table(table: Table) -> None:
    """A table with rows; none: nothing (the line above it has said 0)."""
    if table.row_count:
        console.print(table)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def _run(action: Callable[[], T]) -> T:
    """One-line errors, exit 2, never a traceback."""
    from lvyue.facts import FactsError
    from lvyue.indicators import IndicatorError
    from lvyue.model.spark import SparkError
    from lvyue.rulebook import ConflictError, RulebookError

    try:
        return action()
    except (IndicatorError, FactsError, RulebookError, ConflictError, SparkError) as exc:
        _fail(str(exc))


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except InstantError as exc:
        _fail(f"{option}: {exc}")


def _backend(name: str) -> Any:
    if name == "duckdb":
        return None
    if name != "spark":
        _fail(f"--engine: {name!r} is not duckdb or spark")
    import ibis

    from lvyue.model.spark import spark_errors, spark_session

    with spark_errors():
        return ibis.pyspark.connect(spark_session())


def _rulebook(extra: list[Path] | None) -> Any:
    from lvyue.rulebook import load_rulebook

    return _run(lambda: load_rulebook(extra_dirs=tuple(extra or ())))


def _plan(as_of: datetime, since: str | None, until: str | None, festival: str | None,
          periods: int, rb: Any) -> Any:  # fmt: skip
    import lvyue.indicators as ind

    if festival is not None:
        return _run(lambda: ind.festival(festival, as_of, periods, rb))
    start, end = _instant(since, "--since"), _instant(until, "--until")
    if start is not None or end is not None:
        if start is None or end is None:
            _fail("--since and --until go together")
        return _run(lambda: ind.span(start, end, as_of))
    return _run(lambda: ind.rolling(as_of, periods, rb))


def indicators(
    facts: FactsArg,
    as_of: AsOfOpt = None,
    since: Annotated[str | None, typer.Option(help="payments from (with --until)")] = None,
    until: Annotated[str | None, typer.Option(help="payments before (with --since)")] = None,
    festival: Annotated[
        str | None, typer.Option(help="a clause whose scope and window select the orders: VF-8")
    ] = None,
    periods: Annotated[int, typer.Option(min=1, help="rolling periods back from --as-of")] = 1,
    by: Annotated[str, typer.Option(help="merchant or product")] = "merchant",
    engine: EngineOpt = "duckdb",
    rules: RulesOpt = None,
    out: OutOpt = None,
) -> None:
    """VF-8 indicators (残次, 描述不符, 品退率, 投诉率, 差评率, 体验分) of every merchant or
    product, against the rulebook's thresholds and the industry's peers."""
    import lvyue.indicators as ind
    from lvyue.indicators.report import findings_table
    from lvyue.model.clock import business_now
    from lvyue.model.table_files import check_out, write_table

    if by not in ("merchant", "product"):
        _fail(f"--by: {by!r} is not merchant or product")
    if out is not None:
        _run(lambda: _check(check_out, out))
    moment = _instant(as_of, "--as-of") or _instant(until, "--until") or business_now()
    rb = _rulebook(rules)
    plan = _plan(moment, since, until, festival, periods, rb)
    backend = _backend(engine)
    src = _run(lambda: ind.build(ind.load_tables(facts), backend))
    judged = _run(
        lambda: ind.evaluate(src, plan, by_product=by == "product", backend=backend, rulebook=rb)
    )
    _show(judged, by)
    _labels(facts, judged)
    if out is not None:
        write_table(findings_table(judged), out)
        console.print(f"wrote {out}")


def _check(check: Callable[[Path], None], out: Path) -> None:
    from lvyue.indicators import IndicatorError

    try:
        check(out)
    except ValueError as exc:
        raise IndicatorError(f"--out: {exc}") from None


def _show(judged: list[Any], by: str) -> None:
    judged_n = sum(1 for j in judged if j.judged)
    abnormal = [j for j in judged if j.abnormal]
    console.print(
        f"{len(judged)} {by}-periods, {judged_n} judged, {len(abnormal)} with abnormal indicators"
    )
    from lvyue.indicators.report import LABELS

    table = narrow_table("abnormal (指标异常)", "period end", f"{by}~", "orders", "指标", "value",
                         "peers", "level", "clause")  # fmt: skip
    shown = 0
    for j in sorted(abnormal, key=lambda j: -j.points):
        for f in j.abnormal:
            if shown >= _TOP:
                break
            key = j.merchant_id if j.product_id is None else f"{j.merchant_id}/{j.product_id}"
            peers = "n/a" if f.peer_median is None else f"{f.peer_median:.4g}"
            table.add_row(format_beijing(j.period_end)[:10], key, str(j.orders),
                          LABELS[f.indicator], f"{f.value:.4g}", peers, f.level,
                          f.clauses[0])  # fmt: skip
            shown += 1
    show_table(table)


def label_rows(facts: Path, stem: str) -> list[dict[str, Any]] | None:
    """The simulator's ground truth ``stem.parquet`` or ``stem.csv`` in a facts directory, if
    there (precision and recall are printed only then)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    for suffix, read in ((".parquet", pq.read_table), (".csv", pcsv.read_csv)):
        if (facts / f"{stem}{suffix}").exists():
            rows: list[dict[str, Any]] = read(facts / f"{stem}{suffix}").to_pylist()
            return rows
    return None


def _labels(facts: Path, judged: list[Any]) -> None:
    """Precision and recall against the simulator's labels, when the facts carry them."""
    from lvyue.indicators.labels import score

    rows = label_rows(facts, "abnormal_merchants")
    if rows is None:
        return
    s = score(judged, [str(r["merchant_id"]) for r in rows])
    p = "n/a" if s.precision is None else f"{s.precision:.2f}"
    r = "n/a" if s.recall is None else f"{s.recall:.2f}"
    console.print(
        f"labelled abnormal merchants: {s.labelled}, flagged {s.flagged}, "
        f"found {s.true_positives}: precision {p}, recall {r}"
    )


measures_app = typer.Typer(
    name="measures", help="VF-8 graded measures from the indicators.", no_args_is_help=True
)


@measures_app.command("propose")
def propose(
    facts: FactsArg,
    as_of: AsOfOpt = None,
    periods: Annotated[int, typer.Option(min=1, help="period ends judged up to --as-of")] = 5,
    engine: EngineOpt = "duckdb",
    rules: RulesOpt = None,
    out: OutOpt = None,
    facts_out: Annotated[
        Path | None,
        typer.Option(
            "--facts-out",
            help="a copy of FACTS whose orders carry the settlement "
            "penalties (VF-6's exception, VF-6a's date) for lvyue evaluate",
        ),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="record them in the service database (--url)")
    ] = False,
    url: Annotated[str | None, typer.Option("--url", help="database URL (with --record)")] = None,
) -> None:
    """Measures for VF-8's festival orders (flower products, domestic merchants, paid in its
    window): warning → delisting → order limits → extended settlement → suspension → removal,
    by severity and repetition over ``--periods`` period ends; each cites VF-8, its step and
    the indicators, with its start and end (lifted by rule after N normal periods)."""
    import lvyue.indicators as ind
    from lvyue.indicators.measures import measures_for, settlement_penalties
    from lvyue.indicators.report import proposals_table
    from lvyue.model.clock import business_now
    from lvyue.model.table_files import check_out, write_table

    if out is not None:
        _run(lambda: _check(check_out, out))
    moment = _instant(as_of, "--as-of") or business_now()
    rb = _rulebook(rules)
    backend = _backend(engine)
    tables = _run(lambda: ind.load_tables(facts))
    src = _run(lambda: ind.build(tables, backend))
    outcome = _run(lambda: measures_for(src, moment, periods, backend=backend, rulebook=rb))
    _show_proposals(outcome)
    if out is not None:
        write_table(proposals_table(outcome.proposals), out)
        console.print(f"wrote {out}")
    if facts_out is not None:
        penalties = _run(lambda: settlement_penalties(src, outcome, backend, rb))
        _write_facts(facts, facts_out, tables, penalties)
    if record:
        _record(outcome, url)


def _show_proposals(outcome: Any) -> None:
    ends = sorted(outcome.thresholds)
    span = f"{format_beijing(ends[0])[:10]} … {format_beijing(ends[-1])[:10]}" if ends else "none"
    console.print(f"VF-8 periods judged: {len(ends)} ({span}); measures: {len(outcome.proposals)}")
    table = narrow_table("graded measures (VF-8)", "merchant~", "product~", "措施", "lvl",
                         "start", "end / until~", "clause")  # fmt: skip
    for p in outcome.proposals[:_TOP]:
        end = (
            f"{format_beijing(p.end)[:10]} {p.ended_by}" if p.end is not None
            else f"≥ {format_beijing(p.until)[:10]}" if p.until is not None else "operator"
        )  # fmt: skip
        table.add_row(p.merchant_id, p.product_id or "", p.kind, str(p.level),
                      format_beijing(p.start)[:10], end, ";".join(p.clauses[:2]))  # fmt: skip
    show_table(table)


def _write_facts(facts: Path, out: Path, tables: dict[str, Any], penalties: Any) -> None:
    """Every file of FACTS copied, the orders rewritten (Parquet) with the penalties."""
    import shutil

    import pyarrow.parquet as pq

    from lvyue.indicators.measures import apply_penalties

    if out.resolve() == facts.resolve():
        _fail("--facts-out: must not be the facts directory itself")
    out.mkdir(parents=True, exist_ok=True)
    for path in facts.iterdir():
        if path.is_file() and not path.name.startswith("orders."):
            shutil.copy2(path, out / path.name)
    pq.write_table(apply_penalties(tables["orders"], penalties), out / "orders.parquet")
    (out / "orders.csv").unlink(missing_ok=True)
    console.print(f"wrote {out}: {penalties.num_rows} orders under an extended settlement")


def _record(outcome: Any, url: str | None) -> None:
    """As the worker's sweep: recorded once, and the unsupported ones withdrawn (now)."""
    from lvyue.model.clock import business_now
    from lvyue.store import make_engine, make_session_factory
    from lvyue.workflows.actions.rule_measures import (
        indicator_parties,
        record_indicator_measures,
    )

    factory = make_session_factory(make_engine(url))
    with factory() as session:
        parties = indicator_parties(outcome.merchants)
        done = record_indicator_measures(
            session, outcome.proposals, outcome.ends, business_now(), parties
        )
        session.commit()
    console.print(
        f"recorded {done.recorded} measures ({done.skipped} already recorded or unknown merchant);"
        f" {done.withdrawn} withdrawn (no longer supported)"
    )


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    app.command(name="indicators")(indicators)
    app.add_typer(measures_app)
