"""CLI for creators (达人) and VF-9's logistics claims: ``lvyue creators``.
Presentation only: the logic lives in lvyue.indicators.creators."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from lvyue.cli.indicators import (
    _TOP,
    AsOfOpt,
    EngineOpt,
    FactsArg,
    OutOpt,
    RulesOpt,
    _backend,
    _check,
    _fail,
    _instant,
    _rulebook,
    _run,
    console,
    label_rows,
    narrow_table,
    show_table,
)
from lvyue.model.time import format_beijing

app = typer.Typer(
    name="creators",
    help="Creators (达人) and merchants' logistics claims (VF-9): checked against their orders.",
    no_args_is_help=True,
)
SinceOpt = Annotated[str | None, typer.Option(help="payments from (default: VF-9 in force)")]
UntilOpt = Annotated[str | None, typer.Option(help="payments before (default: --as-of)")]


def _judge(facts: Path, as_of: str | None, since: str | None, until: str | None,
           engine: str, rules: list[Path] | None, out: Path | None) -> Any:  # fmt: skip
    """The claims judged (after ``--out`` is checked, so a bad name fails before the work)."""
    from lvyue.model.table_files import check_out

    if out is not None:
        _run(lambda: _check(check_out, out))
    from lvyue.indicators import load_tables
    from lvyue.indicators.creators import build, judge_claims
    from lvyue.model.clock import business_now

    moment = _instant(as_of, "--as-of") or business_now()
    start, end = _instant(since, "--since"), _instant(until, "--until")
    rb = _rulebook(rules)
    backend = _backend(engine)
    src = _run(lambda: build(load_tables(facts), backend))
    return _run(
        lambda: judge_claims(src, moment, since=start, until=end, backend=backend, rulebook=rb)
    )


@app.command("claims")
def claims(
    facts: FactsArg,
    as_of: AsOfOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    engine: EngineOpt = "duckdb",
    rules: RulesOpt = None,
    out: OutOpt = None,
) -> None:
    """Every logistics claim of every promotion (当日达, 次日达, N小时内发货, M月D日前包邮到家 …)
    against what the orders from that promotion got: normal, warn, severe or not judged."""
    from lvyue.indicators.creators.report import findings_table
    from lvyue.model.table_files import write_table

    outcome = _judge(facts, as_of, since, until, engine, rules, out)
    false = [f for f in outcome.findings if f.false]
    judged = sum(1 for f in outcome.findings if f.level != "not_judged")
    console.print(
        f"{len(outcome.findings)} claims, {judged} judged, {len(false)} false (VF-9); "
        f"orders paid {format_beijing(outcome.pay_start)[:10]} … "
        f"{format_beijing(outcome.pay_end)[:10]}"
    )
    # the false ones; with none, every claim and why it is not false (too few orders …)
    shown, title = (false, "false claims (宣传不实)") if false else (outcome.findings, "claims")
    table = narrow_table(title, "creator / merchant~", "promotion~", "claim~", "orders",
                         "broken", "level")  # fmt: skip
    for f in sorted(shown, key=lambda f: -(f.share or 0))[:_TOP]:
        table.add_row(f.party_id, f.promotion_id, f.phrase, str(f.orders), str(f.broken),
                      f"{f.level} ({f.clauses[min(1, len(f.clauses) - 1)]})")  # fmt: skip
    show_table(table)
    _labels(facts, outcome.proposals)
    if out is not None:
        write_table(findings_table(outcome.findings), out)
        console.print(f"wrote {out}")


PeriodsOpt = Annotated[int, typer.Option(min=1, max=104, help="period ends judged up to --as-of")]


@app.command("measures")
def measures(
    facts: FactsArg,
    as_of: AsOfOpt = None,
    periods: PeriodsOpt = 5,
    since: SinceOpt = None,
    until: UntilOpt = None,
    engine: EngineOpt = "duckdb",
    rules: RulesOpt = None,
    out: OutOpt = None,
    record: Annotated[
        bool, typer.Option("--record", help="record them in the service database (--url)")
    ] = False,
    url: Annotated[str | None, typer.Option("--url", help="database URL (with --record)")] = None,
) -> None:
    """Graded measures for false claims, judged at ``--periods`` period ends (claims.period_days
    apart): a creator's (警告 → 关闭商品分享 → 扣佣金 → 冻结保证金 → 封禁账号), the merchant's for
    its own listings (警告 → 商品下架 → 延长账期 → 限制订单), by severity and repetition; each
    citing VF-9, its step's clause (operator default) and the claims, with its start and its
    end (lifted by rule after N periods without a false claim)."""
    from lvyue.indicators import load_tables
    from lvyue.indicators.creators import build
    from lvyue.indicators.creators.report import proposals_table
    from lvyue.indicators.creators.run import measure_claims
    from lvyue.model.clock import business_now
    from lvyue.model.table_files import check_out, write_table

    if out is not None:
        _run(lambda: _check(check_out, out))
    moment = _instant(as_of, "--as-of") or business_now()
    start, end = _instant(since, "--since"), _instant(until, "--until")
    rb, backend = _rulebook(rules), _backend(engine)
    src = _run(lambda: build(load_tables(facts), backend))
    outcome = _run(lambda: measure_claims(src, moment, periods, since=start, until=end,
                                          backend=backend, rulebook=rb))  # fmt: skip
    _show_measures(outcome)
    _labels(facts, outcome.proposals)
    if out is not None:
        write_table(proposals_table(outcome.proposals), out)
        console.print(f"wrote {out}")
    if record:
        _record(outcome, url)


@contextmanager
def _reached(url: str | None) -> Iterator[None]:
    """A database that cannot be reached (or is not migrated) is bad input: one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from lvyue.store import database_url

    try:
        yield
    except SQLAlchemyError as error:
        _fail(f"cannot use {database_url(url)}: {str(error).splitlines()[0]}")


def _ends(p: Any) -> str:
    if p.end is not None:
        return f"{format_beijing(p.end)[:10]} {p.ended_by}"
    return f"≥ {format_beijing(p.until)[:10]}" if p.until is not None else "operator"


def _show_measures(outcome: Any) -> None:
    ends = [p.end for p in outcome.periods]
    span = f"{format_beijing(ends[0])[:10]} … {format_beijing(ends[-1])[:10]}"
    console.print(f"VF-9 periods judged: {len(ends)} ({span}); measures: {len(outcome.proposals)}")
    table = narrow_table("graded measures (VF-9)", "creator / merchant~", "措施", "lvl", "start",
                         "end / until~", "clause")  # fmt: skip
    for p in outcome.proposals[:_TOP]:
        table.add_row(p.party_id, p.kind, str(p.level), format_beijing(p.start)[:10], _ends(p),
                      p.clause)  # fmt: skip
    show_table(table)


def _record(outcome: Any, url: str | None) -> None:
    """Each proposal recorded once, the unsupported ones withdrawn (rule_measures, as VF-8's)."""
    from lvyue.model.clock import business_now
    from lvyue.store import make_engine, make_session_factory
    from lvyue.workflows.actions.rule_measures import claim_parties, record_claim_measures

    judged = [p.end for p in outcome.periods]
    factory = make_session_factory(make_engine(url))
    with _reached(url), factory() as session:
        parties = claim_parties(outcome.periods)
        done = record_claim_measures(session, outcome.proposals, judged, business_now(), parties)
        session.commit()
    console.print(
        f"recorded {done.recorded} measures ({done.skipped} already recorded or unknown party);"
        f" {done.withdrawn} withdrawn (no longer supported)"
    )


@app.command("recorded")
def recorded(
    url: Annotated[str | None, typer.Option("--url", help="database URL")] = None,
    creator: Annotated[str | None, typer.Option("--creator", help="one creator_id")] = None,
) -> None:
    """The measures recorded against creators (VF-9): why (the claims and clause), since when
    and until when, and whether lifted (by rule or by an operator)."""
    from lvyue.store import make_engine, make_session_factory
    from lvyue.workflows.actions.measures import of_creators

    factory = make_session_factory(make_engine(url))
    with _reached(url), factory() as session:
        rows = of_creators(session, creator)
    table = narrow_table("measures on creators (VF-9)", "id", "creator~", "措施", "start",
                         "until (active) / lifted by~")  # fmt: skip
    for r in rows:
        lifted = r.lifted_at is not None
        when = r.lifted_at if lifted else r.until
        end = "operator" if when is None else format_beijing(when)[:10]
        table.add_row(str(r.measure_id), r.creator_id or "", r.kind,
                      format_beijing(r.created_at)[:10],
                      f"{end} {r.lifted_by}" if lifted else f"≥ {end}")  # fmt: skip
    console.print(f"{len(rows)} measures recorded on creators")
    show_table(table)
    for r in rows:  # why, in full (it does not fit a column)
        console.print(f"{r.measure_id} ({r.clause}): {r.reason}")


def _labels(facts: Path, proposals: list[Any]) -> None:
    """Precision and recall against the simulator's ``false_claims``, when the facts carry it."""
    from lvyue.indicators.creators.report import score

    labels = label_rows(facts, "false_claims")
    if labels is None:
        return
    for party in ("creator", "merchant"):
        s = score(proposals, labels, party)
        p = "n/a" if s.precision is None else f"{s.precision:.2f}"
        r = "n/a" if s.recall is None else f"{s.recall:.2f}"
        console.print(  # fits 80 columns
            f"labels ({party}s): {s.labelled} false, {s.flagged} measured, "
            f"{s.true_positives} found, precision {p}, recall {r}"
        )


def register(main: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    main.add_typer(app)
