"""`lvyue rules …`: list, show, check and resolve the rulebook (presentation only)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.box import SIMPLE
from rich.markup import escape
from rich.table import Table

from lvyue.cli import Terminal
from lvyue.model.table_files import write_table
from lvyue.model.time import format_beijing, to_beijing
from lvyue.rulebook import (
    Conflict,
    ConflictError,
    Rulebook,
    RulebookError,
    announcement_json,
    answer_json,
    clause_json,
    conflict_json,
    format_value,
    load_rulebook,
    order_context,
    trace_json,
)
from lvyue.rulebook.context import OrderContext
from lvyue.rulebook.loader import load_categories
from lvyue.rulebook.schema import Clause, Scope

rules_app = typer.Typer(
    help="The rulebook: announcements as clauses (list, show, check, resolve).",
    no_args_is_help=True,
)
out = Terminal()
err = Terminal(stderr=True)

RulebookDirs = Annotated[
    list[Path] | None,
    typer.Option("--rulebook", help="Extra (draft) announcement directory; repeatable."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    app.add_typer(rules_app, name="rules")


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _load(dirs: list[Path] | None) -> Rulebook:
    try:
        return load_rulebook(tuple(dirs or ()))
    except RulebookError as exc:
        _fail(str(exc))


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@rules_app.command("list")
def list_clauses(
    rulebook: RulebookDirs = None,
    parameter: Annotated[str | None, typer.Option(help="Only clauses for this parameter.")] = None,
    as_json: AsJson = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column (wider than 80).")] = False,
) -> None:
    """Every clause of every announcement (one row per clause version)."""
    rb = _load(rulebook)
    if parameter is not None and parameter not in rb.registry:
        _fail(f"--parameter: unknown parameter {parameter!r} (see `lvyue rules list`)")
    clauses = [c for c in rb.clauses if parameter is None or c.parameter == parameter]
    if as_json:
        _echo_json([clause_json(c) for c in clauses])
        return
    out.print(_wide_table(clauses) if wide else _compact_table(clauses))


def _wide_table(clauses: list[Clause]) -> Table:
    table = Table(title=f"{len(clauses)} clauses", show_lines=False)
    for col in ("clause", "announcement", "parameter", "value", "clock", "window", "scope"):
        table.add_column(col, overflow="fold")
    for c in clauses:
        table.add_row(
            c.id + (f"@{c.revision}" if c.revision else ""),
            c.announcement,
            c.parameter or f"({c.kind.value})",
            format_value(c.value) if c.value is not None else "",
            c.clock.value if c.effective.bounded else "",
            c.effective.describe() if c.effective.bounded else "always",
            c.scope.describe(),
        )
    return table


def _compact_table(clauses: list[Clause]) -> Table:
    """80 columns: one line per clause where it fits; --wide or --json for the rest."""
    table = Table(title=f"{len(clauses)} clauses (--wide: clock, announcement, full scope)",
                  box=SIMPLE, pad_edge=False)  # fmt: skip
    table.add_column("clause", no_wrap=True, width=7)
    table.add_column("parameter", overflow="fold", width=23)
    table.add_column("value", overflow="fold", width=13)
    table.add_column("window", no_wrap=True, width=18)
    table.add_column("scope", overflow="ellipsis", no_wrap=True, width=10)
    for c in clauses:
        table.add_row(
            c.id + (f"@{c.revision}" if c.revision else ""),
            c.parameter or f"({c.kind.value})",
            format_value(c.value) if c.value is not None else "",
            _dates(c.effective.start, c.effective.end) if c.effective.bounded else "always",
            _short_scope(c.scope),
        )
    return table


def _dates(start: datetime | None, end: datetime | None) -> str:
    """2024-02-08..02-14 (Beijing dates; the end is the last day in the window)."""
    first = to_beijing(start).date().isoformat() if start else ""
    last = to_beijing(end - timedelta(seconds=1)).date().isoformat() if end else ""
    return f"{first}..{last[5:] if last[:4] == first[:4] else last}"


def _short_scope(scope: Scope) -> str:
    parts = [m.value for m in sorted(scope.merchant_types or ())]
    if scope.categories:
        tops = sorted({c.split(">")[0].split("/")[0] for c in scope.categories})
        parts.append(
            "、".join(tops) + (f"×{len(scope.categories)}" if len(scope.categories) > 1 else "")
        )
    parts += [m.value for m in sorted(scope.ship_modes or ())]
    return " ".join(parts) or "all"


@rules_app.command("show")
def show(
    clause_id: Annotated[
        str, typer.Argument(metavar="ID", help="A clause id (SF-6) or a parameter name.")
    ],
    rulebook: RulebookDirs = None,
    as_json: AsJson = False,
) -> None:
    """One clause (value, window, scope, exceptions, source) or one parameter's clauses."""
    rb = _load(rulebook)
    versions = rb.clause_versions(clause_id)
    if not versions and clause_id in rb.registry:
        _show_parameter(rb, clause_id, as_json)
        return
    if not versions:
        _fail(f"no clause or parameter {clause_id!r} (see `lvyue rules list`)")
    announcement = rb.announcement(versions[0].announcement)
    if as_json:
        data = {
            "clause": clause_json(versions[-1]),
            "versions": [clause_json(v) for v in versions],
            "announcement": announcement_json(announcement),
            "exceptions_to_it": sorted({c.id for c in rb.clauses if clause_id in c.exception_to}),
        }
        _echo_json(data)
        return
    for c in versions:
        table = Table(
            show_header=False, title=f"{c.id}" + (f" ({c.revision})" if c.revision else "")
        )
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        partial = " (partial: known only in part)" if announcement.partial else ""
        table.add_row("announcement", f"{announcement.title} ({announcement.id}){partial}")
        table.add_row("source kind", announcement.source_kind.value)
        table.add_row("kind", c.kind.value)
        if c.parameter:
            table.add_row("parameter", c.parameter)
            table.add_row("value", format_value(c.value) if c.value is not None else "")
        table.add_row("clock", c.clock.value)
        table.add_row("window", c.window.describe() if c.window.bounded else "always")
        if c.valid.bounded:
            table.add_row("version in force", c.valid.describe())
        table.add_row("scope", c.scope.describe())
        table.add_row("exception to", ", ".join(c.exception_to) or "—")
        if c.text:  # the seed's garbled sentence, and what it says
            table.add_row("text", escape(c.text))
        table.add_row("source", escape(c.source))
        if c.note:
            table.add_row("note", escape(c.note))
        out.print(table)


def _show_parameter(rb: Rulebook, name: str, as_json: bool) -> None:
    spec = rb.registry[name]
    clauses = [c for c in rb.clauses if c.parameter == name]
    if as_json:
        data = {
            "parameter": name,
            "kinds": [k.value for k in spec.kinds],
            "clock": spec.clock.value,
            "anchor": spec.anchor.value if spec.anchor else None,
            "meaning": spec.meaning,
            "clauses": [clause_json(c) for c in clauses],
        }
        _echo_json(data)
        return
    out.print(f"[bold]{name}[/bold] ({'/'.join(spec.kinds)}, window clock {spec.clock.value})")
    out.print(escape(spec.meaning))
    table = Table()
    for col in ("clause", "value", "window", "scope", "exception to"):
        table.add_column(col, overflow="fold")
    for c in clauses:
        window = f"{c.clock.value} {c.effective.describe()}" if c.effective.bounded else "always"
        value = format_value(c.value) if c.value is not None else ""
        table.add_row(c.id, value, window, c.scope.describe(), ", ".join(c.exception_to))
    out.print(table)


@rules_app.command("check")
def check(rulebook: RulebookDirs = None, as_json: AsJson = False) -> None:
    """Static conflict check. Exit 0: none; 1: conflicts (both clauses named); 2: bad file.

    Ties (two clauses deciding the same orders with the same value, neither an exception to
    the other) are listed as warnings: harmless, but an `exception_to` says which governs.
    """
    rb = _load(rulebook)
    conflicts, ties = rb.check()
    if as_json:
        data = {
            "clauses": len(rb.clauses),
            "conflicts": [conflict_json(c) for c in conflicts],
            "ties": [conflict_json(t) for t in ties],
        }
        _echo_json(data)
    else:
        if conflicts:
            out.print(_pairs_table(f"[red]{len(conflicts)} conflicts[/red]", conflicts))
        if ties:
            out.print(_pairs_table(f"[yellow]{len(ties)} ties (warnings)[/yellow]", ties))
        if not conflicts:
            n, m = len(rb.announcements), len(rb.clauses)
            out.print(f"[green]ok[/green]: {n} announcements, {m} clauses, no conflict")
    if conflicts:
        raise typer.Exit(1)


def _pairs_table(title: str, pairs: list[Conflict]) -> Table:
    table = Table(title=title)
    for col in ("parameter", "clause", "clause", "values", "for example"):
        table.add_column(col, overflow="fold")
    for c in pairs:
        table.add_row(c.parameter, *c.clause_ids, escape(c.detail), escape(c.example))
    return table


@rules_app.command("diff")
def diff(rulebook: RulebookDirs = None, as_json: AsJson = False) -> None:
    """What draft directories change: per parameter, old answer → new answer, with an example.
    Exit 1 when the rulebook with the draft has conflicts (listed), 2 on a bad file."""
    if not rulebook:
        _fail("give the draft with --rulebook DIR (repeatable)")
    base = _load(None)
    draft = _load(rulebook)
    conflicts, _ = draft.check()
    changes = base.diff(draft)
    if as_json:
        _echo_json([vars(c) for c in changes])
        if conflicts:
            raise typer.Exit(1)
        return
    table = Table(title=f"{len(changes)} changes (cells of order space)")
    for col in ("parameter", "before", "after", "cells", "for example"):
        table.add_column(col, overflow="fold")
    for c in changes:
        row = (c.parameter, c.before, c.after, str(c.cells), c.example)
        table.add_row(*(escape(x) for x in row))
    out.print(table)
    if conflicts:
        out.print(_pairs_table(f"[red]the draft has {len(conflicts)} conflicts[/red]", conflicts))
        raise typer.Exit(1)


@rules_app.command("table")
def table_command(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the table: .parquet or .csv.")
    ] = None,
    rulebook: RulebookDirs = None,
    as_json: AsJson = False,
) -> None:
    """Compile the parameter table the batch engine joins to orders (rows per parameter)."""
    if out_file is not None and out_file.suffix not in (".parquet", ".csv"):
        _fail(f"--out {out_file}: the file name must end in .parquet or .csv")
    rb = _load(rulebook)
    try:
        with err.status("compiling the parameter table…"):
            table = rb.parameter_table()
    except ConflictError as exc:
        _fail(str(exc), 1)
    if out_file is not None:
        try:
            write_table(table, out_file)
        except (OSError, ValueError) as exc:
            _fail(f"--out {out_file}: {exc}")
    counts: dict[str, int] = {}
    for name in table.column("parameter").to_pylist():
        counts[name] = counts.get(name, 0) + 1
    if as_json:
        _echo_json({"rows": table.num_rows, "parameters": counts, "out": str(out_file or "")})
        return
    view = Table(title=f"parameter table: {table.num_rows} rows")
    view.add_column("parameter")
    view.add_column("rows", justify="right")
    for name, n in sorted(counts.items()):
        view.add_row(name, str(n))
    out.print(view)


@rules_app.command("resolve")
def resolve(
    order: Annotated[
        str | None, typer.Option(help="The order as JSON, or @file.json (facts-format names).")
    ] = None,
    merchant_type: Annotated[str | None, typer.Option(help="domestic|cross_border|…")] = None,
    category: Annotated[str | None, typer.Option(help="Full path, levels joined by '>'.")] = None,
    ship_mode: Annotated[str | None, typer.Option(help="spot|presale|step|factory_direct")] = None,
    pay_time: Annotated[str | None, typer.Option(help="Naive means Beijing time.")] = None,
    ship_time: Annotated[str | None, typer.Option(help="Naive means Beijing time.")] = None,
    flag: Annotated[list[str] | None, typer.Option(help="A flag that is true; repeatable.")] = None,
    clock: Annotated[
        list[str] | None, typer.Option(help="Any clock as NAME=TIME, e.g. aftersale_created=…")
    ] = None,
    parameter: Annotated[
        list[str] | None, typer.Option(help="Only these parameters; repeatable.")
    ] = None,
    explain: Annotated[bool, typer.Option(help="Show every clause considered.")] = False,
    rulebook: RulebookDirs = None,
    as_json: AsJson = False,
    wide: Annotated[bool, typer.Option("--wide", help="One full table (wider than 80).")] = False,
) -> None:
    """Every parameter for one order, with its value, clause and the clauses it overrode."""
    rb = _load(rulebook)
    ctx = _order(order, merchant_type, category, ship_mode, pay_time, ship_time, flag, clock)
    notes = _assumptions(rb, ctx, order, merchant_type, ship_mode, rulebook)
    names = parameter or rb.parameters()
    rows: list[dict[str, Any]] = []
    shown: dict[str, str] = {}
    conflicted = False
    for name in names:
        try:
            when, answer = rb.deadline(name, ctx) if _timed(rb, name) else (None, None)
            answer = answer or rb.resolve(name, ctx)
        except KeyError:
            _fail(f"unknown parameter {name!r}", 2)
        except ConflictError as exc:
            conflicted = True
            rows.append({"parameter": name, "conflict": str(exc)})
            continue
        row: dict[str, Any] = answer_json(answer, when) if answer else {"parameter": name}
        if answer is not None:  # the value of the version in force, not the latest version's
            shown[name] = format_value(answer.value)
        if explain:
            row["trace"] = [trace_json(t) for t in rb.trace(name, ctx)]
        rows.append(row)
    for note in notes:
        err.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    if as_json:
        _echo_json(rows)
    else:
        (_print_answers if wide else _print_compact)(rows, shown)
        if explain:
            for name in names:
                _print_trace(name, rb, ctx)
    if conflicted:
        raise typer.Exit(1)


def _timed(rb: Rulebook, name: str) -> bool:
    kinds = rb.registry[name].kinds if name in rb.registry else ()
    return any(k.value in ("duration", "instant") for k in kinds)


def _order(
    order: str | None,
    merchant_type: str | None,
    category: str | None,
    ship_mode: str | None,
    pay_time: str | None,
    ship_time: str | None,
    flags: list[str] | None,
    clocks: list[str] | None,
) -> OrderContext:
    data: dict[str, Any] = {}
    if order:
        text = order
        if order.startswith("@"):
            try:
                text = Path(order[1:]).read_text("utf-8")
            except OSError as exc:
                _fail(f"--order {order}: {exc.strerror}")
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            _fail(f"--order: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
        if not isinstance(loaded, dict):
            _fail("--order: expected a JSON object")
        data.update(loaded)
    given = {"merchant_type": merchant_type, "category": category, "ship_mode": ship_mode}
    given |= {"pay_time": pay_time, "ship_time": ship_time}
    data.update({k: v for k, v in given.items() if v is not None})
    if flags:
        data["flags"] = [*data.get("flags", []), *flags]
    for item in clocks or []:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--clock {item!r}: expected NAME=TIME")
        data[name.strip()] = value.strip()
    try:
        return order_context(data)
    except ValueError as exc:
        _fail(str(exc))


def _assumptions(
    rb: Rulebook,
    ctx: OrderContext,
    order: str | None,
    merchant_type: str | None,
    ship_mode: str | None,
    dirs: list[Path] | None,
) -> list[str]:
    """What resolve assumed, said aloud: defaults applied and a category outside the taxonomy.
    A misspelt leaf under a known top level is bad input (exit 2)."""
    notes = []
    given = order or ""
    if merchant_type is None and '"merchant_type"' not in given:
        notes.append(f"merchant type not given: assumed {ctx.merchant_type.value} (default)")
    if ship_mode is None and '"ship_mode"' not in given:
        notes.append(f"ship mode not given: assumed {ctx.ship_mode.value} (default)")
    if not ctx.category:
        return notes
    known = load_categories(tuple(dirs or ()))
    leaves = {k for k in known if not any(o.startswith(k + ">") for o in known)}
    if ctx.category in known or any(ctx.category.startswith(k + ">") for k in leaves):
        return notes
    top = ctx.category.split(">")[0]
    if top in known:
        children = sorted(k for k in known if k.startswith(top + ">") and k.count(">") == 1)
        _fail(f"--category {ctx.category!r}: unknown under {top} (known: {', '.join(children)})")
    del rb  # the taxonomy is the rulebook's; a category outside it is legal but unscoped
    notes.append(
        f"category {ctx.category!r} is not in the rulebook's taxonomy: "
        "only clauses without a category scope apply to it"
    )
    return notes


def _print_compact(rows: list[dict[str, Any]], shown: dict[str, str]) -> None:
    """80 columns: parameters grouped under their common prefix (penalty.late_ship …), the
    deadline as MM-DD hh:mm:ss (the year is the order's), overrides and the parameters no
    clause decides listed under the table; --wide or --json for everything in one table."""
    table = Table(title="resolved parameters (times in Beijing)", title_justify="left",
                  box=None, pad_edge=False)  # fmt: skip
    table.add_column("parameter", no_wrap=True, min_width=25)
    table.add_column("value", overflow="fold", min_width=23)
    table.add_column("deadline", no_wrap=True, width=14)
    table.add_column("clause", no_wrap=True)
    answered = [r for r in rows if "clause" in r or "conflict" in r]
    shown_family = ""
    for row in answered:
        family, leaf = _family(row["parameter"], [r["parameter"] for r in answered])
        if family and family != shown_family:
            table.add_row(f"[bold]{family}[/bold]", "", "", "")
        shown_family = family
        name = f"  {leaf}" if family else row["parameter"]
        if "conflict" in row:
            table.add_row(name, "[red]conflict (below)[/red]", "", "")
            continue
        deadline = row.get("deadline")
        when = format_beijing(_parse(deadline))[5:] if deadline else ""
        value = re.sub(r"^(.+) after (\S+)$", r"\2 +\1", shown.get(row["parameter"], ""))
        table.add_row(name, escape(value), when, row["cites"])  # pay_time +48 h
    out.print(table)
    for row in answered:
        if "conflict" in row:
            err.print(f"[red]conflict[/red] {row['parameter']}: {escape(row['conflict'])}")
        elif row["overridden"]:
            over = ", ".join(row["overridden"])
            out.print(f"{row['parameter']}: {row['cites']} overrides {over}", highlight=False)
    undecided = [r["parameter"] for r in rows if r not in answered]
    if undecided:
        out.print(f"[dim]no clause applies: {', '.join(_collapsed(undecided))}[/dim]")


def _collapsed(names: list[str], at_least: int = 3) -> list[str]:
    """A family of ``at_least`` undecided parameters as ``family.* (N)`` (the indicator and
    claim thresholds are not an order's), the rest by name."""
    tops = Counter(n.split(".")[0] for n in names)
    shown = {f"{t}.* ({k})" if k >= at_least else n for n in names
             for t, k in [(n.split(".")[0], tops[n.split(".")[0]])]}  # fmt: skip
    return sorted(shown)


def _family(name: str, names: list[str]) -> tuple[str, str]:
    """("penalty.late_ship", "points_cap_day") for a parameter sharing its first segment with
    others (the longest dotted prefix they all share); ("", name) for one alone."""
    top = name.split(".")[0]
    kin = [n.split(".") for n in names if n.split(".")[0] == top]
    if len(kin) < 2:
        return "", name
    depth = 1
    while all(len(k) > depth + 1 and k[depth] == kin[0][depth] for k in kin):
        depth += 1
    parts = name.split(".")
    return ".".join(parts[:depth]), ".".join(parts[depth:])


def _print_answers(rows: list[dict[str, Any]], shown: dict[str, str]) -> None:
    table = Table(title="resolved parameters (times in Beijing)")
    for col in ("parameter", "value", "deadline", "clause", "overrides"):
        table.add_column(col, overflow="fold")
    for row in rows:
        if "conflict" in row:
            table.add_row(row["parameter"], f"[red]{escape(row['conflict'])}[/red]", "", "", "")
            continue
        if "clause" not in row:
            table.add_row(row["parameter"], "[dim]no clause applies[/dim]", "", "", "")
            continue
        value = shown.get(row["parameter"], "")
        deadline = row.get("deadline")
        when = format_beijing(_parse(deadline)) if deadline else ""
        table.add_row(row["parameter"], value, when, row["cites"], ", ".join(row["overridden"]))
    out.print(table)


def _parse(text: str) -> Any:
    from lvyue.model.time import parse_instant

    return parse_instant(text)


def _print_trace(name: str, rb: Rulebook, ctx: OrderContext) -> None:
    table = Table(title=f"{name}: every clause considered")
    for col in ("clause", "version", "applies", "value", "why"):
        table.add_column(col, overflow="fold")
    for t in rb.trace(name, ctx):
        value = format_value(t.value) if t.value is not None else ""
        mark = "[green]yes[/green]" if t.applies else "no"
        table.add_row(t.clause_id, t.revision or "", mark, value, escape(t.reason))
    out.print(table)
