"""CLI of the service: ``lvyue serve``, ``lvyue worker``, ``lvyue demo``, ``lvyue db upgrade``."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from lvyue.cli import Terminal

if TYPE_CHECKING:
    from lvyue.api.demo import DemoResult
    from lvyue.engine.online import Resolves
    from lvyue.store import SessionFactory
    from lvyue.store.sweeps import SweepRun

console = Terminal()
err = Terminal(stderr=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL (default: LVYUE_DATABASE_URL or ./lvyue.db)"),
]


def _upgrade(url: str | None) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from lvyue.store import database_url, upgrade

    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as error:
        err.print(
            f"[red]error:[/red] cannot migrate {database_url(url)}: {error.__class__.__name__}: "
            f"{str(error).splitlines()[0]}"
        )
        raise typer.Exit(2) from None


def _require_secrets() -> None:
    """A server or worker does not start without its signing secret (issue 12 item 6)."""
    from lvyue.workflows.config import MissingSecret, inspection_secret

    try:
        inspection_secret()
    except MissingSecret as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None


def _demo_clock_only_on_sqlite(url: str | None) -> None:
    """The demo clock never runs a production database (docs/service.md, model/clock.py)."""
    from lvyue.model.clock import DEMO_CLOCK_ENV, business_now, demo_clock_set
    from lvyue.store import database_url

    if not demo_clock_set():
        return
    if not database_url(url).startswith("sqlite"):
        err.print(f"[red]error:[/red] {DEMO_CLOCK_ENV} is for the demo (SQLite) only; unset it")
        raise typer.Exit(2)
    err.print(f"[yellow]demo clock ({DEMO_CLOCK_ENV}): business time is {business_now()}[/]")


def db_upgrade(url: UrlOption = None) -> None:
    """Apply the Alembic migrations up to the newest revision."""
    from lvyue.store import database_url

    _upgrade(url)
    console.print(f"database at head: {database_url(url)}")


def serve(
    url: UrlOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Migrate the database and serve the API (docs at /docs)."""
    import uvicorn

    from lvyue.api import create_app
    from lvyue.api.app import freeze_heap

    _require_secrets()
    _demo_clock_only_on_sqlite(url)
    _upgrade(url)
    app = create_app(url)
    freeze_heap()
    uvicorn.run(app, host=host, port=port, log_level="info")


def worker(
    url: UrlOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run the due sweeps, judge every marked order, exit")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between sweep rounds")] = 60.0,
    name: Annotated[
        str,
        typer.Option(
            help="Worker name recorded in claims; restarted under it, a worker takes back at "
            "once the orders its killed run held (one name per running worker)"
        ),
    ] = "worker",
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="Keep the live verdicts current")
    ] = True,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Orders per live round")] = 100,
    poll: Annotated[float, typer.Option(help="Seconds to wait when nothing is marked")] = 0.2,
) -> None:
    """Keep the live verdicts current (orders marked by writes or due by time, judged again
    in small batches; several workers share the work) and run the periodic sweeps (each at
    most once per period, even with several workers)."""
    from lvyue.store import make_engine, make_session_factory
    from lvyue.store.jobs import run_pending
    from lvyue.store.sweeps import run_due
    from lvyue.workflows import config
    from lvyue.workflows import hooks as workflow_hooks
    from lvyue.workflows.live import drain, release_leases

    _require_secrets()
    workflow_hooks.register()
    _demo_clock_only_on_sqlite(url)
    _upgrade(url)
    factory = make_session_factory(make_engine(url))
    rules = config.rules()
    if not once:
        from lvyue.api.app import freeze_heap

        freeze_heap()  # rounds allocate a lot: full collections walk only what they hold
        loop = WorkerLoop(name=name, interval=interval, live=live, batch=batch, poll=poll)
        loop.run(factory, rules, threading.Event(), _print_sweeps)
        return
    run_pending(factory)  # upload jobs queued, or abandoned by a server that died
    runs = run_due(factory, worker=name)
    _print_sweeps(runs)
    if live:
        release_leases(factory, name)  # its previous run's, if it was killed mid-round
        console.print(f"live verdicts: {drain(factory, rules, limit=batch, worker=name)}")
    if any(run.error for run in runs):
        raise typer.Exit(1)


@dataclass(frozen=True)
class WorkerLoop:
    """The continuous worker: due sweeps every ``interval``, live rounds in between (the
    business clock, so the demo clock too); `lvyue worker` and the served demo run it."""

    name: str = "worker"
    interval: float = 60.0
    live: bool = True
    batch: int = 100
    poll: float = 0.2

    def run(
        self,
        factory: SessionFactory,
        rules: Resolves,
        stop: threading.Event,
        report: Callable[[list[SweepRun]], None],
    ) -> None:
        from lvyue.store.jobs import run_pending
        from lvyue.store.sweeps import run_due
        from lvyue.workflows.live import pause_between_rounds, release_leases, run_round

        pause, next_sweep = pause_between_rounds(factory), time.monotonic()
        release_leases(factory, self.name)  # its previous run's, if it was killed mid-round
        while not stop.is_set():
            if time.monotonic() >= next_sweep:
                run_pending(factory)
                report(run_due(factory, worker=self.name))
                next_sweep = time.monotonic() + self.interval
            judged = (
                run_round(factory, rules, limit=self.batch, worker=self.name).judged
                if self.live
                else 0
            )
            if judged:
                stop.wait(pause)  # SQLite: let waiting writers have the lock between rounds
            elif self.live:
                stop.wait(min(self.poll, max(0.0, next_sweep - time.monotonic())))
            else:
                stop.wait(self.interval)


def _print_sweeps(runs: list[SweepRun]) -> None:
    table = Table("sweep", "period", "ran", "result", title="lvyue worker")
    for run in runs:
        ran = "yes" if run.ran else "FAILED" if run.error else "claimed elsewhere"
        table.add_row(run.sweep, run.period, ran, run.error or str(run.result or ""))
    console.print(table if runs else "no sweeps registered")


def _keep_existing(database: Path, force: bool) -> None:
    """Never delete a database silently: --force, a yes at an interactive prompt, or exit 2."""
    if force or not database.exists():
        return
    question = f"{database} exists; delete it and build a fresh demo?"
    if sys.stdin.isatty() and typer.confirm(question, default=False):
        return
    err.print(
        f"[red]error:[/red] {database} exists; pass --force to replace it, or choose another --dir"
    )
    raise typer.Exit(2)


def _print_first_steps(result: DemoResult) -> str:
    """One line per role, then the demo clock every process must share (returned)."""
    from lvyue.api.demo import first_steps
    from lvyue.model.clock import DEMO_CLOCK_ENV, demo_clock
    from lvyue.model.time import format_beijing

    console.print("[bold]try first[/bold] (演示数据 demo data):")
    for who, what in first_steps(result):
        console.print(f"  {who:<16} {what}", highlight=False, soft_wrap=True)
    clock = demo_clock(result.now, datetime.now(UTC).replace(microsecond=0))
    console.print(
        f"demo clock: business time starts at {format_beijing(result.now)} (Beijing) and runs "
        f"forward; for `lvyue worker`/CLI in another shell: export {DEMO_CLOCK_ENV}={clock}",
        soft_wrap=True,
    )
    return clock


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo database goes")] = Path(
        "demo-data"
    ),
    orders: Annotated[int, typer.Option(help="Simulated orders")] = 3000,
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 20240214,
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build, print, exit")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing demo database in --dir")
    ] = False,
) -> None:
    """A fresh SQLite database filled by the simulator, demo accounts of every role and their
    tokens, then the API on 127.0.0.1 (docs at /docs).

    An existing database in --dir is replaced only with --force (or a yes at the prompt);
    otherwise exit 2."""
    import secrets

    _keep_existing(directory / "lvyue.db", force)

    from lvyue.api.demo import build_demo
    from lvyue.workflows.config import SECRET_ENV

    salt = os.environ.get("LVYUE_KUAIDI100_SALT") or secrets.token_hex(8)
    # The demo's own signing secret, unless one is set (printed to restart `lvyue serve`).
    inspection_secret = os.environ.get(SECRET_ENV) or secrets.token_hex(32)
    os.environ[SECRET_ENV] = inspection_secret

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console.make()
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def step(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(f"loading {table}", total=total)
            bar.update(tasks[table], completed=done)

        result = build_demo(directory, orders=orders, seed=seed, progress=step)
    loaded = Table(
        "table",
        "created",
        "updated",
        "unchanged",
        "quarantined",
        title="demo data (simulator)",
    )
    for name, counts in result.loaded.items():
        loaded.add_row(
            name,
            str(counts.created),
            str(counts.updated),
            str(counts.unchanged),
            str(len(counts.quarantined)),
        )
    console.print(loaded)
    accounts = Table(title="demo accounts (tokens shown once: copy them now)")
    for column in ("account", "role", "merchant"):
        accounts.add_column(column, no_wrap=True)
    accounts.add_column("token", no_wrap=True)
    accounts.add_column("console password", no_wrap=True)
    for account in result.accounts:
        accounts.add_row(
            account.account_id,
            account.role.value,
            account.merchant_id or "",
            account.token,
            account.password,
        )
    Console(width=max(console.width, 120)).print(accounts)  # wide enough never to cut a token
    clock = _print_first_steps(result)
    for line in (  # values to copy: one line each, never wrapped
        f"database: {result.url}",
        f"facts for diagnosis (LVYUE_DIAGNOSIS_FACTS): {result.facts_dir}",
        f"Kuaidi100 push salt (LVYUE_KUAIDI100_SALT): {salt}",
        f"inspection-code secret ({SECRET_ENV}): {inspection_secret}",
    ):
        console.print(line, soft_wrap=True, highlight=False)
    facts, state = _diagnosis_inputs(result.facts_dir)
    _precompute_diagnoses(
        facts, state, sorted({a.merchant_id for a in result.accounts if a.merchant_id})
    )
    if no_serve:
        return
    import uvicorn

    from lvyue.model.clock import DEMO_CLOCK_ENV

    os.environ[DEMO_CLOCK_ENV] = clock  # the served demo runs on the demo clock

    from lvyue.api import create_app

    os.environ.setdefault("LVYUE_DIAGNOSIS_FACTS", str(facts))
    os.environ.setdefault("LVYUE_DIAGNOSIS_STATE", str(state))
    console.print(
        f"serving on http://127.0.0.1:{port} — console at http://127.0.0.1:{port}/console/ "
        f"(log in with an account and its console password), API docs at /docs"
    )
    with _worker_beside(result.url):
        uvicorn.run(
            create_app(result.url, kuaidi100_salt=salt),
            host="127.0.0.1",
            port=port,
            log_level="info",
        )


@contextmanager
def _worker_beside(url: str) -> Iterator[None]:
    """The served demo keeps its verdicts current: the `lvyue worker` loop in a thread of
    this process (so it stops with the server and leaves no process behind)."""
    from lvyue.store import make_engine, make_session_factory
    from lvyue.workflows import config

    engine = make_engine(url)
    stop = threading.Event()
    loop = WorkerLoop(name="demo-worker")
    thread = threading.Thread(
        target=loop.run,
        args=(make_session_factory(engine), config.rules(), stop, _print_sweeps_ran),
        name="lvyue-demo-worker",
        daemon=True,
    )
    thread.start()
    console.print("worker: running beside the server (live verdicts, sweeps every 60 s)")
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        engine.dispose()


def _print_sweeps_ran(runs: list[SweepRun]) -> None:
    """The demo's worker says only what a sweep did (not a table each minute)."""
    for run in runs:
        if run.ran or run.error:
            console.print(f"worker: {run.sweep} {run.period} {run.error or run.result or ''}")


def _diagnosis_inputs(demo_facts: Path) -> tuple[Path, Path]:
    """What the served demo's diagnosis reads: the configured snapshot and governance state,
    else the demo's own (its facts directory, ``governance`` beside it)."""
    from lvyue.diagnosis import kept

    facts, state = kept.configured()
    return facts or demo_facts, state or demo_facts.parent / "governance"


def _precompute_diagnoses(facts: Path, state: Path, merchants: list[str]) -> None:
    """The demo merchants' diagnoses, kept where the console reads them, so a newcomer's
    first 物流诊断 page opens at once instead of diagnosing (seconds per merchant)."""
    import lvyue.diagnosis as dx
    from lvyue.diagnosis import kept

    start = time.perf_counter()
    try:
        with console.status("diagnosing the demo merchants (物流诊断, kept for the console)"):
            kept.warm(facts, state, merchants)
    except dx.ERRORS as error:  # the page will say the same; the demo still serves
        console.print(f"[yellow]diagnoses not precomputed: {error}[/yellow]")
        return
    took = time.perf_counter() - start
    console.print(f"diagnoses kept for {', '.join(merchants)} ({took:.0f} s)")


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    db = typer.Typer(help="The service database.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    app.command()(serve)
    app.command()(worker)
    app.command()(demo)
