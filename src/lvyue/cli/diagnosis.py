"""CLI for logistics diagnosis (物流诊断): ``diagnose``, ``governance``, ``reachability``,
``growth-signup``. Presentation only: the logic lives in lvyue.diagnosis."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.box import SIMPLE
from rich.progress import Progress
from rich.table import Table

from lvyue.cli import Terminal
from lvyue.model.labels import governance_zh

if TYPE_CHECKING:
    import lvyue.diagnosis as dx

console = Terminal()
err = Terminal(stderr=True, soft_wrap=True)  # one-line errors, never wrapped
T = TypeVar("T")

FactsOpt = Annotated[Path, typer.Option("--facts", help="facts directory (docs/formats.md)")]
StateOpt = Annotated[
    Path | None, typer.Option("--state-dir", help="governance history and control state")
]


def _dx() -> Any:
    """The diagnosis package, imported on use so other commands start fast."""
    import lvyue.diagnosis

    return lvyue.diagnosis


def _run(action: Callable[[], T]) -> T:
    """One-line errors, non-zero exit, never a traceback."""
    dx = _dx()
    try:
        return action()
    except dx.ERRORS as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def diagnose(
    merchant_id: Annotated[str, typer.Argument(help="merchant (shop) id")],
    facts: FactsOpt,
    period: Annotated[str | None, typer.Option(help="YYYY-MM-DD..YYYY-MM-DD (Beijing)")] = None,
    state_dir: StateOpt = None,
) -> None:
    """A merchant's logistics diagnosis: capability, standing among peers, predicted gain."""
    dx = _dx()
    result = _run(lambda: dx.diagnose_facts(facts, merchant_id, period, state_dir))
    _show_diagnosis(result)
    for record in dx.sign_ups(state_dir, merchant_id) if state_dir else []:
        console.print(f"signed up: {dx.SOLUTIONS[record['solution']]} at {record['at']}")


def _show_diagnosis(d: dx.Diagnosis) -> None:
    """80 columns: short bilingual headings, SIMPLE boxes, avg/P50/P90 as one cell, bullets
    with a hanging indent; carriers by their Chinese names (files keep the codes)."""
    dx = _dx()
    console.print(f"[bold]物流诊断 {d.merchant_id}[/bold] · 行业 industry {d.industry or 'n/a'}")
    console.print(f"period {d.period} · shipped 发货 {d.volume}", highlight=False)
    if d.state == "cold_start":
        console.print(
            f"[yellow]Cold start 冷启动:[/yellow] {d.volume} shipped orders is below the minimum "
            "history; a diagnosis appears once history accrues. Meanwhile:"
        )
        _bullets(f"{dx.SOLUTIONS[r.solution]}: {r.reason}" for r in d.recommendations)
        return
    summary = _table("概况 summary (发货/快递运输/售后客诉)")
    for col in ("指标 metric", "平均 avg", "P50", "P90"):
        summary.add_column(col, justify="left" if col.startswith("指标") else "right")
    for m in dx.METRICS:
        if m.kind == "duration":
            cells = (dx.metrics.fmt(f"{m.name}_{k}", d.summary.get(f"{m.name}_{k}"))
                     for k in ("avg", "p50", "p90"))  # fmt: skip
            summary.add_row(m.label, *cells)
        else:
            summary.add_row(m.label, dx.metrics.fmt(m.name, d.summary.get(m.name)), "", "")
    console.print(summary)
    cap = _table("快递能力 Carrier capability (LD-3), hours avg/P50/P90")
    for col in ("快递 carrier", "单量", "揽收 h", "揽签 h", "24h揽收", "准时"):
        cap.add_column(col, justify="left" if col.startswith("快递") else "right", no_wrap=True)
    for row in d.capability:
        cap.add_row(_carrier(row["carrier"]), str(row["volume"]),
                    _triple(row, "pickup_from_pay_h"), _triple(row, "transit_h"),
                    _pct(row["pickup_24h_rate"]), _pct(row["on_time_rate"]))  # fmt: skip
    console.print(cap)
    score = d.score.score if d.score else None
    console.print(
        f"物流分 logistics sub-score (50–100): [bold]{score if score is not None else 'n/a'}[/]"
    )
    for c in d.controlled:
        console.print(
            f"[red]Controlled {c.kind} {c.key}[/red] (since {c.since}): {c.shipments} of your "
            "shipments went through it"
        )
    _show_topic(d)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=SIMPLE, pad_edge=False)


def _bullets(lines: Iterable[str]) -> None:
    """• text, folded under itself (a hanging indent) at any width."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for line in lines:
        table.add_row("  •", line)
    if table.row_count:
        console.print(table)


def _carrier(code: str) -> str:
    """A carrier as people read it (顺丰速运, 中通快递); files keep the Kuaidi100 code."""
    from lvyue.tracking import carrier_label

    return carrier_label(code)


def _triple(row: dict[str, Any], name: str) -> str:
    vals = [row.get(f"{name}_{k}") for k in ("avg", "p50", "p90")]
    return "/".join("n/a" if v is None else f"{v:.1f}" for v in vals)


_GRADE = {"excellent": "优秀", "normal": "一般", "lagging": "落后", "n/a": "n/a"}


def _show_topic(d: dx.Diagnosis) -> None:
    dx = _dx()
    if d.topic is None:
        console.print(
            f"Topic analysis: {d.topic_status.replace('_', ' ')} for this merchant (LD-11)"
        )
        return
    t = d.topic
    table = _table(f"专题分析 Topic analysis among {t.peer_count} same-industry merchants (LD-6)")
    for col in ("指标 metric", "yours", "百分位", "grade", "peers P50", "P75"):
        table.add_column(col)
    colour = {"excellent": "green", "normal": "yellow", "lagging": "red", "n/a": "dim"}
    for s in t.standings:
        table.add_row(
            dx.metric_label(s.column),
            dx.format_column(s.column, s.value),
            "n/a" if s.percentile is None else f"{s.percentile:.0f}",
            f"[{colour[s.grade]}]{_GRADE.get(s.grade, s.grade)} {s.grade}[/]",
            dx.format_column(s.column, s.peer_p50),
            dx.format_column(s.column, s.peer_p75),
        )
    console.print(table)
    lanes = _table("线路×快递 lane × carrier (LD-7), top 10 by volume; (peers)")
    for col in ("线路 lane", "快递", "单量", "揽收 h", "准时 on time"):
        lanes.add_column(col, overflow="fold")
    for lane in t.lanes[:10]:
        lanes.add_row(
            f"{lane.origin_city}→{lane.dest_city}",
            _carrier(lane.carrier),
            str(lane.volume),
            _pair(lane.values, lane.peer_values, "pickup_from_pay_h_avg", _h),
            _pair(lane.values, lane.peer_values, "on_time_rate", _pct),
        )
    console.print(lanes)
    _bullets(tip.text for tip in t.suggestions)
    if t.gain:
        gain = _table("结算率 settlement if weak metrics reach peers")
        for col in ("target", "now", "after", "+orders", "+GMV ¥", "score after"):
            gain.add_column(col, justify="right")
        for level, g in t.gain.items():
            proj = t.projected_score[level].score
            gain.add_row(
                f"peer {level.upper()}",
                _pct(g.current_rate),
                _pct(g.projected_rate),
                f"{g.gain_orders:+.1f}",
                f"{g.gain_gmv:+,.0f}",
                "n/a" if proj is None else str(proj),
            )
        console.print(gain)
    elif t.note:
        console.print(f"Settlement gain: {t.note}")
    _show_conversion(t)
    if d.recommendations:
        console.print("[bold]增长中心 growth centre (LD-8)[/bold]")
        _bullets(f"{dx.SOLUTIONS[r.solution]}: {r.reason}" for r in d.recommendations)


def _show_conversion(t: dx.TopicAnalysis) -> None:
    """LD-1: conversion now and if the weak metrics reached the peers."""
    if not t.conversion:
        console.print(f"Conversion (转化率, LD-1): {t.conversion_note}")
        return
    table = _table("转化率 conversion (LD-1) if weak metrics reach peers")
    for col in ("target", "now", "after", "buyers per 1,000 visitors"):
        table.add_column(col, justify="right")
    for level, c in t.conversion.items():
        table.add_row(
            f"peer {level.upper()}",
            f"{c.current_rate:.2%}",
            f"{c.projected_rate:.2%}",
            f"{c.gain_per_1000:+.2f}",
        )
    console.print(table)


def _pair(mine: dict[str, Any], peers: dict[str, Any], key: str, show: Callable[[Any], str]) -> str:
    return f"{show(mine.get(key))} ({show(peers.get(key))})"


def _h(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def governance(
    facts: FactsOpt,
    week: Annotated[str, typer.Option(help="ISO week 2023-W05, or a range 2023-W01..2023-W05")],
    state_dir: StateOpt = None,
    export: Annotated[
        Path | None, typer.Option(help="write the warning list to .csv or .xlsx")
    ] = None,
) -> None:
    """Weekly route and outlet governance (LD-5): warnings, control, lifts."""
    dx = _dx()
    weeks = _run(lambda: dx.parse_weeks(week))
    source = _run(lambda: dx.load_source(facts))
    reports = []
    with Progress(console=err.make(), transient=True) as progress:
        task = progress.add_task("governance", total=len(weeks))
        for w in weeks:
            reports.append(_run(lambda w=w: dx.run_week(source, w, state_dir)))  # type: ignore[misc]
            progress.advance(task)
    for report in reports:
        _show_week(report, state_dir is not None)
    if export:
        rows = [row for report in reports for row in report.warning_rows()]
        columns = list(dict.fromkeys(k for row in rows for k in row)) or list(dx.WARNING_COLUMNS)
        _run(lambda: dx.export_rows(rows, columns, export, "warnings"))
        console.print(f"wrote {len(rows)} warnings to {export}")


def _show_week(r: dx.WeekReport, with_state: bool) -> None:
    _dx()
    title = (
        f"Warnings {r.label} (预警名单): {len(r.warnings)} among {len(r.findings)} routes/outlets "
        "that shipped (below the minimum volume, not judged)"
    )
    table = Table(title=title, box=SIMPLE)
    for col in ("类型", "线路 / 网点", "单量", "超标项 breached"):
        table.add_column(col, overflow="fold")
    for f in r.warnings:
        breached = "; ".join(governance_zh(b) for b in f.breached)
        table.add_row(governance_zh(f.kind), _named(f.key), str(f.volume), breached)
    console.print(table)
    if not with_state:
        console.print("[dim]no --state-dir: control (管控) needs the weekly history[/dim]")
        return
    for s in r.newly_controlled:
        console.print(f"[red]put under control 管控[/red] {governance_zh(s.kind)} {_named(s.key)}")
    for s in r.lifted:
        console.print(f"[green]control lifted 解除[/green] {governance_zh(s.kind)} {_named(s.key)}")
    console.print(f"under control now: {len(r.controlled)}")


def _named(key: str) -> str:
    """yuantong|杭州市|上海市 → 圆通速递 · 杭州市 · 上海市: a carrier by its Chinese name."""
    carrier, *rest = key.split("|")
    return " · ".join([_carrier(carrier), *rest])


def reachability(
    carrier: Annotated[
        list[str] | None,
        typer.Option(help="Kuaidi100 code or name (zhongtong, 中通); repeat or a,b for several"),
    ] = None,
    address: Annotated[str | None, typer.Option(help="full address to check")] = None,
    province: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    district: Annotated[str | None, typer.Option()] = None,
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD, default today")] = None,
    coverage: Annotated[Path | None, typer.Option(help="coverage CSV to use/import")] = None,
    export: Annotated[Path | None, typer.Option(help="write the result to .csv or .xlsx")] = None,
    restricted_list: Annotated[
        bool, typer.Option("--restricted-list", help="限售区域: areas none of the carriers reach")
    ] = False,
) -> None:
    """Carriers' unreachable areas (LD-4): by region or by full address; export; 限售区域."""
    dx = _dx()
    day = _run(lambda: dx.parse_day(on) if on else _today())
    rules = _run(lambda: dx.load_coverage(coverage))
    carriers = _run(lambda: dx.carrier_codes(carrier or ()))
    if address:
        if len(carriers) != 1:
            _run(lambda: dx.fail("--address needs exactly one --carrier"))
        v = _run(lambda: dx.query_address(rules, carriers[0], address, day))
        place = " ".join(p for p in (v.province, v.city, v.district) if p)
        verdict = "[green]可达 reachable[/]" if v.reachable else "[red]不可达 unreachable[/]"
        console.print(f"{_carrier(carriers[0])} → {place}: {verdict}")
        found = v.rules
    elif restricted_list:
        found = _run(lambda: dx.restricted_list(rules, carriers, day))
    else:
        found = _run(lambda: dx.query_region(rules, carriers, day, province, city, district))
    _show_rules(found, day)
    if export:
        _run(lambda: dx.export(found, export))
        console.print(f"wrote {len(found)} rows to {export}")


def _today() -> date:
    from lvyue.model.clock import business_now

    return business_now().astimezone(_dx().BEIJING).date()


def _show_rules(rules: list[dx.CoverageRule], day: date) -> None:
    """80 columns: carrier by its Chinese name, the region as one short place name, the
    reason's Chinese words; codes, full names and levels are in the export (--export)."""
    from lvyue.tracking import carrier

    table = Table(title=f"不可达区域 unreachable on {day.isoformat()}: {len(rules)}", box=SIMPLE)
    table.add_column("快递")
    table.add_column("区域 region", overflow="fold")
    table.add_column("有效期 valid", overflow="fold")
    table.add_column("原因 reason", overflow="fold")
    for r in rules:
        row = r.as_row()
        province = re.sub("(维吾尔|壮族|回族)?自治区$|省$", "", r.province)
        city = "" if row["city"] == r.province else row["city"]
        place = province + city + row["district"]
        place += f" ({row['keyword']})" if row["keyword"] else ""
        valid = row["valid_from"] + (f"..{row['valid_to']}" if row["valid_to"] else " 起")
        reason = re.split(r"\s+[A-Za-z]", r.reason, maxsplit=1)[0]
        table.add_row(carrier(r.carrier).short_zh, place, valid, reason)
    console.print(table)


def growth_signup(
    merchant_id: Annotated[str, typer.Argument()],
    solution: Annotated[
        str, typer.Argument(help="carrier_recommendation | guaranteed_delivery | cloud_warehouse")
    ],
    state_dir: Annotated[Path, typer.Option("--state-dir")],
    facts: FactsOpt,
) -> None:
    """Sign a merchant of the facts up for a growth-centre solution (LD-8), once."""
    dx = _dx()
    known = _run(lambda: dx.known_merchants(facts))
    from lvyue.model.clock import business_now

    now = business_now().astimezone(dx.BEIJING)  # the demo clock too
    record, new = _run(lambda: dx.sign_up(state_dir, merchant_id, solution, now, known))
    label = dx.SOLUTIONS[solution]
    if new:
        console.print(f"signed up {record['merchant_id']} for {label} at {record['at']}")
    else:
        console.print(f"already signed up {merchant_id} for {label} at {record['at']}; unchanged")


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    app.command("diagnose")(diagnose)
    app.command("governance")(governance)
    app.command("reachability")(reachability)
    app.command("growth-signup")(growth_signup)
