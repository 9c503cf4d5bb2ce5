"""CLI for creators (达人) and VF-9's logistics claims: ``lvyue creators``.
Presentation only: the logic lives in lvyue.indicators.creators."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.box import SIMPLE
from rich.table import Table

from lvyue.cli.indicators import (
    _TOP,
    AsOfOpt,
    EngineOpt,
    FactsArg,
    OutOpt,
    RulesOpt,
    _backend,
    _check,
    _instant,
    _rulebook,
    _run,
    console,
    label_rows,
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
    table = Table("creator / merchant", "promotion", "claim", "orders", "broken", "level",
                  box=SIMPLE, title="false claims (宣传不实)", title_justify="left")  # fmt: skip
    for f in sorted(false, key=lambda f: -(f.share or 0))[:_TOP]:
        table.add_row(f.party_id, f.promotion_id, f.phrase, str(f.orders), str(f.broken),
                      f"{f.level} ({f.clauses[1]})")  # fmt: skip
    console.print(table)
    _labels(facts, outcome.proposals)
    if out is not None:
        write_table(findings_table(outcome.findings), out)
        console.print(f"wrote {out}")


@app.command("measures")
def measures(
    facts: FactsArg,
    as_of: AsOfOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    engine: EngineOpt = "duckdb",
    rules: RulesOpt = None,
    out: OutOpt = None,
) -> None:
    """Graded measures for false claims: a creator's (警告 → 关闭商品分享 → 扣佣金 → 冻结保证金 →
    封禁账号), the merchant's for its own listings (警告 → 商品下架 → 延长账期 → 限制订单), each
    citing VF-9, its step's clause (operator default) and the claims."""
    from lvyue.indicators.creators.report import proposals_table
    from lvyue.model.table_files import write_table

    outcome = _judge(facts, as_of, since, until, engine, rules, out)
    console.print(f"VF-9 measures proposed: {len(outcome.proposals)}")
    table = Table("creator / merchant", "措施", "lvl", "promotions", "clauses",
                  box=SIMPLE, title="graded measures (VF-9)", title_justify="left")  # fmt: skip
    for p in outcome.proposals[:_TOP]:
        table.add_row(p.party_id, p.kind, str(p.level), " ".join(p.promotions),
                      ";".join(p.clauses[:2]))  # fmt: skip
    console.print(table)
    _labels(facts, outcome.proposals)
    if out is not None:
        write_table(proposals_table(outcome.proposals), out)
        console.print(f"wrote {out}")


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
