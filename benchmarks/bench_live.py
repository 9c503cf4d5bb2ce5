"""The live service at platform rate (issue 13 items 2-3), on loopback, PostgreSQL and SQLite.

A real server (``uvicorn`` with ``--server-workers`` processes, the production command of
docs/service.md) and a real ``lvyue worker`` run as subprocesses on 127.0.0.1 over a fresh
database (PostgreSQL: a database of its own on ``--pg-url``, default
``LVYUE_TEST_POSTGRES_URL``, dropped afterwards; SQLite: a temporary file). ``--orders``
shipped orders are loaded first and judged by the worker before anything is measured.

Phases (each bounded by ``--seconds``; ``--clients`` concurrent clients, closed loop):
- batch: ``POST /ingest/tracking`` with ``--batch`` scans each, of the shipped waybills
  (every scan marks its order for the worker); events/s and latency per request;
- single: ``POST /tracking``, one scan each; requests/s and latency;
- event → verdict: during the batch phase, a probe posts an on-time pickup scan for a
  shipped order not yet picked up every 0.25 s and polls the database until its live pickup
  verdict reads ok; p50/p95 of that delay;
- soak (``--soak`` seconds; the issue asks 10 minutes: ``--soak 600``): half the clients
  batch, half single; errors (5xx, transport) must be 0 and the scans accepted (``created``
  in the answers) must equal the rows stored; then the time the worker needs to catch up.

Targets of the issue (PostgreSQL, 50 clients): batch ≥ 5,000 events/s with p99 ≤ 100 ms per
request, single ≥ 1,000 req/s, event → verdict p95 ≤ 10 s. The machine's load average is
printed with the table: the cores are shared, the numbers say what this machine gave.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from lvyue.model import format_instant
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.db import SessionFactory
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.seed import seed_accounts
from lvyue.store.tables import TrackingEvent
from lvyue.store.write import Scope, write_rows
from lvyue.workflows import hooks as workflow_hooks

CARRIER = "yunda"
WORKER = "from lvyue.cli.main import app; app()"


@dataclass
class Load:
    """What a phase's clients saw."""

    latencies: list[float] = field(default_factory=list)  # seconds per request
    events: int = 0  # scans sent in answered requests
    created: int = 0  # scans the answers say were stored
    errors: int = 0  # 5xx or transport errors
    seconds: float = 0.0

    def p(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class World:
    backend: str
    url: str
    base: str
    token: str
    shipped_at: datetime
    waybills: list[str]
    probes: list[str]  # orders shipped, no pickup scan yet: the event → verdict probe
    factory: SessionFactory


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _pg_database(base: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"lvyue_bench_live_{uuid.uuid4().hex[:8]}"
    plain = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def _load_orders(factory: SessionFactory, orders: int, probes: int) -> tuple[str, datetime]:
    """``orders`` shipped orders (scans go to their waybills) and ``probes`` more."""
    shipped = datetime.now(UTC) - timedelta(hours=2)
    rows = [
        {"order_id": f"BL-{n}", "merchant_id": "m1", "merchant_type": "domestic",
         "category": "服饰内衣>女装>连衣裙", "ship_mode": "spot",
         "pay_time": format_instant(shipped - timedelta(hours=3)),
         "ship_time": format_instant(shipped), "carrier": CARRIER, "waybill": f"YD{n:08d}"}
        for n in range(orders + probes)
    ]  # fmt: skip
    with session_scope(factory) as session:
        token = {a.key: a.token for a in seed_accounts(session, [("m1", "一号店", "domestic")])}
    for start in range(0, len(rows), 1_000):
        with session_scope(factory) as session:
            write_rows(session, "orders", rows[start : start + 1_000], Scope(), "bench")
    return token["carrier"], shipped  # the Kuaidi100 integration: pushes scans of every carrier


def _backlog(factory: SessionFactory) -> int:
    with session_scope(factory) as session:
        return session.scalar(select(func.count()).where(LiveMark.dirty.is_(True))) or 0


def _wait_caught_up(factory: SessionFactory, limit_s: float) -> float:
    started = time.monotonic()
    while _backlog(factory) and time.monotonic() - started < limit_s:
        time.sleep(0.2)
    return time.monotonic() - started


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 900  # imports take minutes on a loaded machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start")


class Scans:
    """Unique scans of the shipped waybills: waybill n, time shipped + k seconds."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.counter = itertools.count()

    def next(self) -> dict[str, str]:
        n = next(self.counter)
        waybills = self.world.waybills
        at = self.world.shipped_at + timedelta(seconds=1 + n // len(waybills))
        return {"carrier": CARRIER, "waybill": waybills[n % len(waybills)],
                "time": format_instant(at), "kind": "in_transit", "location": "杭州"}  # fmt: skip


async def _client(
    http: httpx.AsyncClient, until: float, load: Load, send: Callable[[], Awaitable[int]]
) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            created = await send()
        except httpx.HTTPError:
            load.errors += 1
            continue
        if created < 0:
            load.errors += 1
            continue
        load.latencies.append(time.perf_counter() - started)
        load.created += created


def _batch_sender(http: httpx.AsyncClient, scans: Scans, size: int, load: Load) -> Any:
    async def send() -> int:
        rows = [scans.next() for _ in range(size)]
        r = await http.post("/ingest/tracking", json={"rows": rows})
        if r.status_code != 200:
            return -1
        load.events += size
        created: int = r.json()["created"]
        return created

    return send


def _single_sender(http: httpx.AsyncClient, scans: Scans, load: Load) -> Any:
    async def send() -> int:
        r = await http.post("/tracking", json=scans.next())
        if r.status_code != 201:
            return -1
        load.events += 1
        return 1 if r.json()["outcome"] == "created" else 0

    return send


async def _phase(
    world: World, scans: Scans, seconds: float, batch_clients: int, single_clients: int, size: int
) -> tuple[Load, Load]:
    batch, single = Load(), Load()
    limits = httpx.Limits(max_connections=batch_clients + single_clients + 4)
    headers = {"Authorization": f"Bearer {world.token}"}
    async with httpx.AsyncClient(
        base_url=world.base, headers=headers, limits=limits, timeout=120
    ) as http:
        until = time.monotonic() + seconds
        started = time.perf_counter()
        tasks = [
            _client(http, until, batch, _batch_sender(http, scans, size, batch))
            for _ in range(batch_clients)
        ] + [
            _client(http, until, single, _single_sender(http, scans, single))
            for _ in range(single_clients)
        ]
        await asyncio.gather(*tasks)
        batch.seconds = single.seconds = time.perf_counter() - started
    return batch, single


def _probe(world: World, until: float, delays: list[float]) -> None:
    """Post an on-time pickup scan for one probe order every 0.25 s; poll its live verdict."""
    headers = {"Authorization": f"Bearer {world.token}"}
    waiting: dict[str, float] = {}
    probes = iter(world.probes)
    with httpx.Client(base_url=world.base, headers=headers, timeout=60) as http:
        next_post = time.monotonic()
        while time.monotonic() < until + 30 and (waiting or time.monotonic() < until):
            if time.monotonic() >= next_post and time.monotonic() < until:
                order = next(probes, None)
                if order is not None:
                    n = int(order.split("-")[1])
                    on_time = world.shipped_at + timedelta(minutes=30)
                    scan = {"carrier": CARRIER, "waybill": f"YD{n:08d}", "kind": "pickup",
                            "time": format_instant(on_time)}  # fmt: skip
                    if http.post("/tracking", json=scan).status_code == 201:
                        waiting[order] = time.monotonic()
                next_post += 0.25
            with session_scope(world.factory) as session:
                done = session.scalars(
                    select(LiveVerdict.order_id).where(
                        LiveVerdict.order_id.in_(list(waiting)),
                        LiveVerdict.check == "pickup",
                        LiveVerdict.status == "ok",
                    )
                ).all()
            for order in done:
                delays.append(time.monotonic() - waiting.pop(order))
            time.sleep(0.05)
    delays.extend(float("inf") for _ in waiting)  # never updated within 30 s after the phase


def _stored(factory: SessionFactory) -> int:
    with session_scope(factory) as session:
        return session.scalar(select(func.count()).select_from(TrackingEvent)) or 0


def _run_backend(backend: str, args: argparse.Namespace, out: list[list[str]]) -> None:
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    tmp = tempfile.TemporaryDirectory(prefix="lvyue-bench-live-")
    if backend == "postgresql":
        url, cleanup = _pg_database(args.pg_url)
    else:
        url = f"sqlite:///{Path(tmp.name) / 'live.db'}"
    processes: list[subprocess.Popen[bytes]] = []
    engine = None
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        workflow_hooks.register()
        token, shipped = _load_orders(factory, args.orders, args.probes)
        env = {"LVYUE_INSPECTION_SECRET": secrets.token_hex(32), **os.environ,
               "LVYUE_DATABASE_URL": url}  # fmt: skip
        port = _port()
        # SQLite is one writer at a time: one server process (docs/service.md)
        servers = args.server_workers if backend == "postgresql" else 1
        processes.append(_start([sys.executable, "-m", "uvicorn", "--factory",
                                 "lvyue.api.app:create_app", "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", str(servers),
                                 "--log-level", "warning", "--backlog", "4096",
                                 "--timeout-keep-alive", "300"], env))  # fmt: skip
        for i in range(args.workers):
            command = [sys.executable, "-c", WORKER, "worker", "--url", url,
                       "--interval", "3600", "--name", f"bench-{i}"]  # fmt: skip
            processes.append(_start(command, env))
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base)
        first = _wait_caught_up(factory, 600)
        world = World(backend, url, base, token, shipped,
                      [f"YD{n:08d}" for n in range(args.orders)],
                      [f"BL-{n}" for n in range(args.orders, args.orders + args.probes)],
                      factory)  # fmt: skip
        scans = Scans(world)
        load = os.getloadavg()[0]
        delays: list[float] = []
        prober = threading.Thread(
            target=_probe, args=(world, time.monotonic() + args.seconds, delays)
        )
        prober.start()
        batch, _ = asyncio.run(_phase(world, scans, args.seconds, args.clients, 0, args.batch))
        prober.join()
        _, single = asyncio.run(_phase(world, scans, args.seconds, 0, args.clients, args.batch))
        before = _stored(factory)
        half = args.clients // 2
        soak_b, soak_s = asyncio.run(
            _phase(world, scans, args.soak, half, args.clients - half, args.batch)
        )
        catch_up = _wait_caught_up(factory, 600)
        stored = _stored(factory) - before
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if engine is not None:
            engine.dispose()
        cleanup()
        tmp.cleanup()
    finite = sorted(d for d in delays if d != float("inf"))
    p95 = sorted(delays)[int(0.95 * (len(delays) - 1))] if delays else float("nan")
    accepted = soak_b.created + soak_s.created
    out += [
        [backend, f"batch ×{args.batch}", f"{batch.events / batch.seconds:,.0f} events/s",
         _ms(batch.p(0.5)), _ms(batch.p(0.99)), str(batch.errors), f"load {load:.1f}"],
        [backend, "single", f"{len(single.latencies) / single.seconds:,.0f} req/s",
         _ms(single.p(0.5)), _ms(single.p(0.99)), str(single.errors), ""],
        [backend, "event → verdict", f"{len(finite)}/{len(delays)} seen",
         _s(statistics.median(finite) if finite else float("nan")), _s(p95) + " (p95)", "",
         f"first judging {first:.0f} s"],
        [backend, f"soak {args.soak:.0f} s",
         f"{(soak_b.events + soak_s.events) / soak_b.seconds:,.0f} events/s",
         _ms(soak_b.p(0.5)) + " / " + _ms(soak_s.p(0.5)),
         _ms(soak_b.p(0.99)) + " / " + _ms(soak_s.p(0.99)), str(soak_b.errors + soak_s.errors),
         f"accepted {accepted:,} = stored {stored:,}: {'yes' if accepted == stored else 'NO'};"
         f" caught up in {catch_up:.0f} s"],
    ]  # fmt: skip


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _s(seconds: float) -> str:
    return "never" if seconds == float("inf") else f"{seconds:.1f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_live", description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--soak", type=float, default=60.0, help="the issue asks 600")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100, help="scans per batch request")
    parser.add_argument("--live-orders", dest="orders", type=int, default=3_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--workers", type=int, default=1, help="lvyue worker processes")
    parser.add_argument("--pg-url", default=os.environ.get("LVYUE_TEST_POSTGRES_URL"))
    args, _ = parser.parse_known_args(argv)
    rows: list[list[str]] = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not args.pg_url:
            print("bench_live: no PostgreSQL (--pg-url or LVYUE_TEST_POSTGRES_URL): skipped")
            continue
        _run_backend(backend, args, rows)
    table = Table(
        title=f"live service on loopback: {args.clients} clients, {args.server_workers} server "
        f"processes (SQLite: 1), {args.workers} worker(s), {os.cpu_count()} cores (shared; "
        "load = 1-min load average at the start)"
    )
    for column in ("backend", "phase", "rate", "p50", "p99", "errors", "note"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
