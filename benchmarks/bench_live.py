"""The live service at platform rate (issue 13 items 2-3), on loopback, PostgreSQL and SQLite.

A real server (``uvicorn`` with ``--server-workers`` processes, the production command of
docs/service.md) and real ``lvyue worker``s (``--workers``, default 2; SQLite: 1, one writer
at a time) run as subprocesses on 127.0.0.1 over a fresh database (PostgreSQL: a database
of its own on ``--pg-url``, default
``LVYUE_TEST_POSTGRES_URL``, dropped afterwards; SQLite: a temporary file). ``--orders``
shipped orders are loaded first and judged by the worker before anything is measured.

Phases (each bounded by ``--seconds``; ``--clients`` concurrent clients, closed loop unless
said otherwise):
- batch (closed loop, saturation): ``POST /ingest/tracking`` with ``--batch`` scans each, of
  the shipped waybills (every scan marks its order for the worker); events/s and latency per
  request;
- batch at ``--rate`` events/s offered (open loop; default 5,000, the issue's target; 0:
  skipped): once the worker has caught up, the same clients each send a ``--batch``-scan
  request on a fixed schedule (together ``--rate`` events/s), latency taken from each
  request's *scheduled* time, so a server that falls behind is charged its queue (no
  coordinated omission); its rate is the scans answered within the window over the window
  (a server that keeps up reads the offered rate less the last requests in flight). Both
  rows because at saturation 50 closed-loop clients always have 50 requests in flight, so
  by Little's law a request's latency is W = 50 / (requests per second): queueing the
  clients made themselves. "p99 ≤ 100 ms per 100-event request" means something only at a
  given offered rate; this row measures it at the target rate;
- single: ``POST /tracking``, one scan each; requests/s and latency;
- event → verdict: during each batch phase (closed loop, then open loop: each on its half of
  the ``--probes`` orders), a probe posts an on-time pickup scan for a shipped order not yet
  picked up every 0.25 s and polls the database until its live pickup verdict reads ok (on
  time for that order: a tenth of the orders ship 3 days earlier); p50/p95 of that delay. At
  saturation the server takes the cores the workers need: the target is read at the rate;
- soak (``--soak`` seconds; the issue asks 10 minutes: ``--soak 600``): half the clients
  batch, half single; errors (5xx, transport) must be 0 and the scans accepted (``created``
  in the answers) must equal the rows stored; then the time the worker needs to catch up;
- kill (``--kill`` seconds, 0: skipped): the soak's load again; a third of the way in the
  server (its process group: every uvicorn process) is killed with SIGKILL and restarted,
  two thirds in the first ``lvyue worker`` (mid-round: it has a backlog). Clients retry what got
  no answer. Checked automatically: nothing lost (every scan of an answered request is
  stored), nothing twice (no scan key stored twice, one violation and one
  ``violation.record`` audit entry per violated verdict, nothing left marked), and the live
  verdicts equal a full re-evaluation of the stored facts with the one evaluator that
  ``lvyue evaluate`` is proven equal to (tests/engine/test_differential.py).

CPU time: the server's processes (utime + stime of its process group, from /proc) per
request and per event, load-independent where the rates are not; PostgreSQL's own CPU is
not counted (the server is shared). The load generator's own CPU per request ("client cpu",
``time.process_time`` of this process over the phase) shows it is not the bottleneck: the
clients speak HTTP/1.1 over raw asyncio streams (benchmarks/http_load.py; httpx took more
CPU per request than the server). In both batch phases this process also runs the event →
verdict probe thread (httpx, database polls); the figure without it is the load thread's
``time.thread_time``. Run with ``PYTHONPATH`` at another checkout's ``src``
to measure that code with the same benchmark (the table names the source it ran).

Targets of the issue (PostgreSQL, 50 clients): batch ≥ 5,000 events/s with p99 ≤ 100 ms per
request, single ≥ 1,000 req/s, event → verdict p95 ≤ 10 s. The machine's load average is
printed with the table: the cores are shared, the numbers say what this machine gave.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import lvyue
from benchmarks.http_load import Poster, Unanswered
from lvyue.model import format_instant
from lvyue.model.enums import Duty
from lvyue.store import live as live_store
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.db import SessionFactory
from lvyue.store.live_tables import LiveVerdict
from lvyue.store.seed import seed_accounts
from lvyue.store.tables import TrackingEvent
from lvyue.store.write import Scope, write_rows
from lvyue.workflows import hooks as workflow_hooks

CARRIER = "yunda"
BATCH_PATH, SINGLE_PATH = "/ingest/tracking", "/tracking"
WORKER = "from lvyue.cli.main import app; app()"


@dataclass
class Load:
    """What a phase's clients saw."""

    latencies: list[float] = field(default_factory=list)  # seconds per request
    events: int = 0  # scans sent in answered requests
    created: int = 0  # scans the answers say were stored
    errors: int = 0  # 5xx or transport errors
    seconds: float = 0.0
    requests: int = 0  # answered
    keys: list[tuple[str, datetime]] | None = None  # kept if a list: scans of answered requests

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
    shipped = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # as formatted
    rows = [_order_row(n, shipped) for n in range(orders + probes)]
    with session_scope(factory) as session:
        token = {a.key: a.token for a in seed_accounts(session, [("m1", "一号店", "domestic")])}
    for start in range(0, len(rows), 1_000):
        with session_scope(factory) as session:
            write_rows(session, "orders", rows[start : start + 1_000], Scope(), "bench")
    return token["carrier"], shipped  # the Kuaidi100 integration: pushes scans of every carrier


def _order_row(n: int, shipped: datetime) -> dict[str, str]:
    """Order n, shipped at ``shipped`` — a tenth of them 3 days earlier (their pickup is late:
    violations for the worker to record, and for the kill phase to count)."""
    at = _ship_time(n, shipped)
    return {"order_id": f"BL-{n}", "merchant_id": "m1", "merchant_type": "domestic",
            "category": "服饰内衣>女装>连衣裙", "ship_mode": "spot",
            "pay_time": format_instant(at - timedelta(hours=3)),
            "ship_time": format_instant(at), "carrier": CARRIER,
            "waybill": f"YD{n:08d}"}  # fmt: skip


def _ship_time(n: int, shipped: datetime) -> datetime:
    """Order n's ship time: ``shipped``, or 3 days earlier for a tenth of the orders."""
    return shipped - (timedelta(days=3) if n % 10 == 1 else timedelta(0))


def _backlog(factory: SessionFactory) -> int:
    with session_scope(factory) as session:
        return live_store.backlog(session).dirty  # written to, or being judged


def _wait_caught_up(factory: SessionFactory, limit_s: float) -> float:
    started = time.monotonic()
    while _backlog(factory) and time.monotonic() - started < limit_s:
        time.sleep(0.2)
    return time.monotonic() - started


class Service:
    """The server (one process group: uvicorn and its workers) and the ``lvyue worker``
    processes, each startable, killable with SIGKILL and restartable."""

    def __init__(self, url: str, port: int, servers: int, workers: int, nice: int = 0) -> None:
        self.env = {"LVYUE_INSPECTION_SECRET": secrets.token_hex(32), **os.environ,
                    "LVYUE_DATABASE_URL": url}  # fmt: skip
        self.url, self.port, self.servers, self.nice = url, port, servers, nice
        self.server = self._server()
        self.workers = [self._worker(i) for i in range(workers)]

    def _server(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "uvicorn", "--factory", "lvyue.api.app:serve_app",
                   "--host", "127.0.0.1", "--port", str(self.port), "--workers",
                   str(self.servers), "--log-level", "warning", "--backlog", "4096",
                   "--timeout-keep-alive", "300"]  # fmt: skip
        return subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, start_new_session=True
        )

    def _worker(self, i: int) -> subprocess.Popen[bytes]:
        # below the servers' CPU priority, as docs/service.md runs workers sharing their cores
        command = ["nice", "-n", str(self.nice), sys.executable, "-c", WORKER, "worker",
                   "--url", self.url, "--interval", "3600", "--name", f"bench-{i}"]  # fmt: skip
        return subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL)

    def kill_server(self) -> None:
        os.killpg(self.server.pid, signal.SIGKILL)  # its own session: uvicorn and its workers
        self.server.wait(30)

    def restart_server(self) -> None:
        self.server = self._server()

    def kill_worker(self, i: int = 0) -> None:
        self.workers[i].send_signal(signal.SIGKILL)
        self.workers[i].wait(30)
        self.workers[i] = self._worker(i)

    def cpu_seconds(self) -> float:
        """CPU (user + system) of the server's processes so far (those alive now)."""
        return _group_cpu(self.server.pid)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGTERM)
        for process in [self.server, *self.workers]:
            process.terminate()
        for process in [self.server, *self.workers]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)


def _group_cpu(group: int) -> float:
    """utime + stime (seconds) of the live processes of a process group, from /proc."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == group:  # pgrp; utime and stime are fields 14 and 15 of stat
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


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

    def next(self) -> tuple[dict[str, str], tuple[str, datetime]]:
        """A new scan and its key (waybill, time; all of kind in_transit)."""
        n = next(self.counter)
        waybills = self.world.waybills
        at = self.world.shipped_at + timedelta(seconds=1 + n // len(waybills))
        waybill = waybills[n % len(waybills)]
        return {"carrier": CARRIER, "waybill": waybill, "time": format_instant(at),
                "kind": "in_transit", "location": "杭州"}, (waybill, at)  # fmt: skip


Sender = Callable[[], Awaitable[int]]  # one request: scans created, -1 for an error


async def _client(until: Callable[[], bool], load: Load, send: Sender) -> None:
    while not until():
        started = time.perf_counter()
        try:
            created = await send()
        except Unanswered:
            created = -1
        if created < 0:
            load.errors += 1
            await asyncio.sleep(0.05)  # a server down (the kill phase): no busy loop
            continue
        load.latencies.append(time.perf_counter() - started)
        load.created += created
        load.requests += 1


def _batch_sender(poster: Poster, scans: Scans, size: int, load: Load) -> Sender:
    async def send() -> int:
        rows, keys = zip(*(scans.next() for _ in range(size)), strict=True)
        status, body = await poster.post(json.dumps({"rows": rows}).encode())
        if status != 200:
            return -1
        answer = json.loads(body)
        if answer["quarantined"]:
            return -1
        load.events += size
        if load.keys is not None:
            load.keys.extend(keys)
        created: int = answer["created"]
        return created

    return send


def _single_sender(poster: Poster, scans: Scans, load: Load) -> Sender:
    async def send() -> int:
        row, key = scans.next()
        status, body = await poster.post(json.dumps(row).encode())
        if status != 201:
            return -1
        load.events += 1
        if load.keys is not None:
            load.keys.append(key)
        return 1 if json.loads(body)["outcome"] == "created" else 0

    return send


class Posters:
    """One kept-alive connection per client (benchmarks/http_load.py), all closed at the end."""

    def __init__(self, world: World) -> None:
        self.world, self.open = world, list[Poster]()

    def __call__(self, path: str) -> Poster:
        poster = Poster(self.world.base, path, self.world.token)
        self.open.append(poster)
        return poster

    def close(self) -> None:
        for poster in self.open:
            poster.close()


async def _phase(
    world: World,
    scans: Scans,
    seconds: float,
    batch_clients: int,
    single_clients: int,
    size: int,
    beside: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> tuple[Load, Load]:
    """Closed-loop clients for ``seconds``, or (``beside``) until ``beside`` sets its event."""
    keys = beside is not None  # the kill phase checks every answered scan
    stop = asyncio.Event()
    if beside is None:
        ends = time.monotonic() + seconds
        until = lambda: time.monotonic() >= ends  # noqa: E731
    else:
        until = stop.is_set
    batch, single = Load(keys=[] if keys else None), Load(keys=[] if keys else None)
    posters = Posters(world)
    started = time.perf_counter()
    tasks = [
        _client(until, batch, _batch_sender(posters(BATCH_PATH), scans, size, batch))
        for _ in range(batch_clients)
    ] + [
        _client(until, single, _single_sender(posters(SINGLE_PATH), scans, single))
        for _ in range(single_clients)
    ]
    try:
        await asyncio.gather(*tasks, *([beside(stop)] if beside is not None else []))
    finally:
        posters.close()
    batch.seconds = single.seconds = time.perf_counter() - started
    return batch, single


@dataclass
class OpenLoop:
    """What the open-loop batch phase offered and got."""

    load: Load
    offered: int = 0  # requests scheduled in the window
    unsent: int = 0  # scheduled but not sent before twice the window had passed
    in_window: int = 0  # scans answered before the window closed: the achieved rate


async def _open_loop(world: World, scans: Scans, seconds: float, clients: int, size: int,
                     rate: float, result: OpenLoop) -> tuple[Load, Load]:  # fmt: skip
    """``clients`` connections, each sending a ``size``-scan batch every ``clients * size /
    rate`` seconds (their starts spread over one period), for ``seconds``. Latency is taken
    from each request's scheduled time, so a server that falls behind is charged the wait
    (no coordinated omission); a client late on its schedule sends at once."""
    period = clients * size / rate
    posters = Posters(world)
    start = time.perf_counter()
    ends = start + seconds

    async def client(i: int) -> None:
        send = _batch_sender(posters(BATCH_PATH), scans, size, result.load)
        due = start + i * period / clients
        while due < ends:
            result.offered += 1
            if time.perf_counter() > ends + seconds:  # hopelessly behind: stop, say so
                result.unsent += 1
            else:
                await asyncio.sleep(due - time.perf_counter())
                if await _scheduled(send, due, result.load) and time.perf_counter() < ends:
                    result.in_window += size
            due += period

    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
    finally:
        posters.close()
    result.load.seconds = time.perf_counter() - start
    return result.load, Load()


async def _scheduled(send: Sender, due: float, load: Load) -> bool:
    """Send one request due at ``due``; whether it was answered."""
    try:
        created = await send()
    except Unanswered:
        created = -1
    if created < 0:
        load.errors += 1
        return False
    load.latencies.append(time.perf_counter() - due)
    load.created += created
    load.requests += 1
    return True


class Probe:
    """The event → verdict probe, in a thread of this process beside a phase of ``seconds``,
    on its own share of the probe orders (an order is probed once)."""

    def __init__(self, world: World, orders: list[str], seconds: float) -> None:
        self.delays: list[float] = []
        until = time.monotonic() + seconds
        self.thread = threading.Thread(target=_probe, args=(world, orders, until, self.delays))
        self.thread.start()

    def row(self, backend: str, label: str, note: str) -> list[str]:
        """Its table row, once it has seen every probe or given up (30 s after the phase)."""
        self.thread.join()
        delays = self.delays
        finite = sorted(d for d in delays if d != float("inf"))
        p95 = sorted(delays)[int(0.95 * (len(delays) - 1))] if delays else float("nan")
        return [backend, label, f"{len(finite)}/{len(delays)} seen",
                _s(statistics.median(finite) if finite else float("nan")), _s(p95) + " (p95)",
                "", note]  # fmt: skip


def _probe(world: World, orders: list[str], until: float, delays: list[float]) -> None:
    """Post an on-time pickup scan for one probe order every 0.25 s; poll its live verdict."""
    headers = {"Authorization": f"Bearer {world.token}"}
    waiting: dict[str, float] = {}
    probes = iter(orders)
    with httpx.Client(base_url=world.base, headers=headers, timeout=60) as http:
        next_post = time.monotonic()
        while time.monotonic() < until + 30 and (waiting or time.monotonic() < until):
            if time.monotonic() >= next_post and time.monotonic() < until:
                order = next(probes, None)
                if order is not None:
                    n = int(order.split("-")[1])
                    # on time for this order (a tenth ship 3 days early: a pickup 30 min
                    # after the common ship time would be late and never read ok)
                    on_time = _ship_time(n, world.shipped_at) + timedelta(minutes=30)
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


@dataclass
class Measured:
    """A phase's two loads, the server CPU it took and this process's own (the clients)."""

    batch: Load
    single: Load
    cpu: float  # seconds of the server's processes
    client_cpu: float = 0.0  # seconds of this process: the load, and the probe thread if on
    loop_cpu: float = 0.0  # seconds of the thread running the load (its event loop)

    def cpu_ms(self, probe: bool = False) -> str:
        requests = self.batch.requests + self.single.requests
        events = self.batch.events + self.single.events
        if not requests:
            return "cpu n/a"
        return (f"server cpu {1000 * self.cpu / requests:.2f} ms/req,"
                f" {1000 * self.cpu / events:.3f} ms/event; {self.client_ms(probe)}")  # fmt: skip

    def client_ms(self, probe: bool = False) -> str:
        """The load generator's CPU per request; with ``probe``, also without the probe
        thread (it posts and polls the database in this process during the batch phase)."""
        sent = (self.batch, self.single)
        requests = sum(load.requests + load.errors for load in sent)  # errors cost CPU too
        if not requests:
            return "client cpu n/a"
        note = f"client cpu {1000 * self.client_cpu / requests:.2f} ms/req"
        if probe:
            note += f" ({1000 * self.loop_cpu / requests:.2f} without the probe thread)"
        return note


def _measured(service: Service, run: Callable[[], tuple[Load, Load]]) -> Measured:
    before, client, loop = service.cpu_seconds(), time.process_time(), time.thread_time()
    batch, single = run()
    return Measured(batch, single, service.cpu_seconds() - before,
                    time.process_time() - client, time.thread_time() - loop)  # fmt: skip


def _run_backend(backend: str, args: argparse.Namespace, out: list[list[str]]) -> None:
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    tmp = tempfile.TemporaryDirectory(prefix="lvyue-bench-live-")
    if backend == "postgresql":
        url, cleanup = _pg_database(args.pg_url)
    else:
        url = f"sqlite:///{Path(tmp.name) / 'live.db'}"
    service: Service | None = None
    engine = None
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        workflow_hooks.register()
        token, shipped = _load_orders(factory, args.orders, args.probes)
        # SQLite is one writer at a time: one server process (docs/service.md)
        servers = args.server_workers if backend == "postgresql" else 1
        workers = args.workers if backend == "postgresql" else 1  # SQLite: one writer
        service = Service(url, _port(), servers, workers, args.worker_nice)
        base = f"http://127.0.0.1:{service.port}"
        _wait_healthy(base)
        first = _wait_caught_up(factory, 600)
        world = World(backend, url, base, token, shipped,
                      [f"YD{n:08d}" for n in range(args.orders)],
                      [f"BL-{n}" for n in range(args.orders, args.orders + args.probes)],
                      factory)  # fmt: skip
        out += _phases(world, service, args, first)
    finally:
        if service is not None:
            service.stop()
        if engine is not None:
            engine.dispose()
        cleanup()
        tmp.cleanup()


def _phases(
    world: World, service: Service, args: argparse.Namespace, first: float
) -> list[list[str]]:
    scans = Scans(world)
    load = os.getloadavg()[0]
    shares = len(world.probes) // 2  # half for the closed-loop phase, half for the open loop
    probe = Probe(world, world.probes[:shares], args.seconds)
    clients, size = args.clients, args.batch
    batch = _measured(
        service, lambda: asyncio.run(_phase(world, scans, args.seconds, clients, 0, size))
    )
    verdicts = probe.row(
        world.backend, "event → verdict (saturation)", f"first judging {first:.0f} s"
    )
    open_rows = (
        _open_phase(world, service, scans, args, world.probes[shares:]) if args.rate > 0 else []
    )
    single = _measured(
        service, lambda: asyncio.run(_phase(world, scans, args.seconds, 0, clients, size))
    )
    before = _stored(world.factory)
    half = clients // 2
    soak = _measured(
        service, lambda: asyncio.run(_phase(world, scans, args.soak, half, clients - half, size))
    )
    catch_up = _wait_caught_up(world.factory, 600)
    stored = _stored(world.factory) - before
    rows = _rows(world.backend, args, load, batch, single, verdicts, soak, stored, catch_up)
    rows[1:1] = open_rows[:1]  # batch closed, batch open, single, event → verdict closed, open
    rows[4:4] = open_rows[1:]
    if args.kill > 0:
        rows += _kill_rows(world, service, scans, args)
    return rows


def _open_phase(
    world: World, service: Service, scans: Scans, args: argparse.Namespace, probes: list[str]
) -> list[list[str]]:
    """The open-loop batch phase at ``--rate``, from a caught-up worker (the steady state at
    the offered rate, not the closed loop's backlog), with the event → verdict probe on
    ``probes``: its two rows."""
    waited = _wait_caught_up(world.factory, 600)
    probe = Probe(world, probes, args.seconds)
    opened, clients, size = OpenLoop(Load()), args.clients, args.batch
    measured = _measured(service, lambda: asyncio.run(
        _open_loop(world, scans, args.seconds, clients, size, args.rate, opened)))  # fmt: skip
    b = measured.batch
    unsent = f", {opened.unsent:,} not sent within 2× the window" if opened.unsent else ""
    return [[world.backend, f"batch ×{args.batch} at {args.rate:,.0f}/s offered",
             f"{opened.in_window / args.seconds:,.0f} events/s", _ms(b.p(0.5)), _ms(b.p(0.99)),
             str(b.errors), f"{b.requests:,} of {opened.offered:,} requests answered{unsent}"
             f" (the last {b.seconds - args.seconds:.1f} s after the window); "
             f"load {os.getloadavg()[0]:.1f}; {measured.cpu_ms(probe=True)}"],
            probe.row(world.backend, f"event → verdict at {args.rate:,.0f}/s offered",
                      f"the worker caught up first in {waited:.0f} s")]  # fmt: skip


def _rows(
    backend: str,
    args: argparse.Namespace,
    load: float,
    batch: Measured,
    single: Measured,
    verdicts: list[str],
    soak: Measured,
    stored: int,
    catch_up: float,
) -> list[list[str]]:
    b, sg = batch.batch, single.single
    accepted = soak.batch.created + soak.single.created
    soak_events = soak.batch.events + soak.single.events
    return [
        [backend, f"batch ×{args.batch} (closed loop, saturation)",
         f"{b.events / b.seconds:,.0f} events/s", _ms(b.p(0.5)), _ms(b.p(0.99)), str(b.errors),
         f"load {load:.1f}; {batch.cpu_ms(probe=True)}"],
        [backend, "single", f"{len(sg.latencies) / sg.seconds:,.0f} req/s",
         _ms(sg.p(0.5)), _ms(sg.p(0.99)), str(sg.errors), single.cpu_ms()],
        verdicts,
        [backend, f"soak {args.soak:.0f} s", f"{soak_events / soak.batch.seconds:,.0f} events/s",
         _ms(soak.batch.p(0.5)) + " / " + _ms(soak.single.p(0.5)),
         _ms(soak.batch.p(0.99)) + " / " + _ms(soak.single.p(0.99)),
         str(soak.batch.errors + soak.single.errors),
         f"accepted {accepted:,} = stored {stored:,}: {'yes' if accepted == stored else 'NO'};"
         f" caught up in {catch_up:.0f} s; load {os.getloadavg()[0]:.1f}; {soak.cpu_ms()}"],
    ]  # fmt: skip


def _kill_rows(
    world: World, service: Service, scans: Scans, args: argparse.Namespace
) -> list[list[str]]:
    """The soak's load; SIGKILL of the server after a third of ``--kill`` seconds, restarted at
    once; a third after it answers again, SIGKILL of the worker (with orders marked),
    restarted at once; a third more of load; then the checks."""
    log: list[str] = []
    before = _stored(world.factory)

    async def chaos(stop: asyncio.Event) -> None:
        third = args.kill / 3
        await asyncio.sleep(third)
        service.kill_server()
        down = time.monotonic()
        service.restart_server()
        await asyncio.to_thread(_wait_healthy, world.base)
        log.append(f"server killed, answering again after {time.monotonic() - down:.0f} s")
        await asyncio.sleep(third)
        backlog = 0
        while not backlog:  # mid-run: orders marked, a round open
            backlog = await asyncio.to_thread(_backlog, world.factory)
        service.kill_worker(0)
        log.append(f"worker killed with {backlog} orders marked")
        await asyncio.sleep(third)
        stop.set()

    half = args.clients // 2
    measured = _measured(service, lambda: asyncio.run(
        _phase(world, scans, args.kill, half, args.clients - half, args.batch, chaos)))  # fmt: skip
    batch, single = measured.batch, measured.single
    _wait_healthy(world.base)
    catch_up = _wait_caught_up(world.factory, 900)
    for worker in service.workers:  # judged from here on in this process, at one instant
        worker.terminate()
        worker.wait(60)
    checks = _check(world, [*(batch.keys or []), *(single.keys or [])])
    stored = _stored(world.factory) - before
    accepted = len(batch.keys or []) + len(single.keys or [])
    errors = batch.errors + single.errors
    return [
        [world.backend, f"kill -9 {args.kill:.0f} s", f"{accepted:,} scans answered",
         _ms(batch.p(0.5)) + " / " + _ms(single.p(0.5)),
         _ms(batch.p(0.99)) + " / " + _ms(single.p(0.99)), f"{errors} (retried)",
         "; ".join([*log, f"stored {stored:,} (in flight when killed: {stored - accepted:,})",
                    f"caught up in {catch_up:.0f} s", *checks, measured.client_ms()])],
    ]  # fmt: skip


def _check(world: World, answered: list[tuple[str, datetime]]) -> list[str]:
    """Nothing lost, nothing twice, live verdicts = a full re-evaluation (see the docstring)."""
    from lvyue.engine.online import evaluate_order
    from lvyue.model.clock import business_now
    from lvyue.store.tables import AuditEntry, Order
    from lvyue.store.workflow_tables import Violation
    from lvyue.workflows import config
    from lvyue.workflows.actions.stored_facts import facts_for
    from lvyue.workflows.live import drain

    rules = config.rules()
    now = business_now()
    drain(world.factory, rules, now)  # what time alone made due since the worker stopped
    with session_scope(world.factory) as s:
        stored = set(s.execute(select(TrackingEvent.waybill, TrackingEvent.time)))
        lost = sum(key not in stored for key in answered)
        key = (TrackingEvent.carrier, TrackingEvent.waybill, TrackingEvent.time, TrackingEvent.kind)
        twice = s.scalar(
            select(func.count()).select_from(
                select(*key).group_by(*key).having(func.count() > 1).subquery()
            )
        )
        marked = live_store.backlog(s).dirty  # dirty, or leased to a round (a killed worker's)
        live = {(v.order_id, v.aftersale_id, v.check): (v.status, v.clauses, v.reason, v.duty)
                for v in s.scalars(select(LiveVerdict))}  # fmt: skip
        orders = list(s.scalars(select(Order)))
        full = {(v.order_id, v.aftersale_id, v.check.value): (v.status.value, v.clauses,
                v.reason, v.duty.value)
                for f in facts_for(s, orders) for v in evaluate_order(f, now, rules)}  # fmt: skip
        kept = {(v.order_id, v.aftersale_id, v.check) for v in s.scalars(select(Violation))}
        audited: Counter[str] = Counter()
        for action, entity in s.execute(
            select(AuditEntry.action, AuditEntry.entity_id).where(
                AuditEntry.action.in_(["violation.record", "violation.withdraw"])
            )
        ):
            audited[entity] += 1 if action == "violation.record" else -1
    violated = {k for k, v in live.items() if v[0] == "violated" and Duty(v[3]).merchants}
    recorded_once = all(audited["/".join(k)] == 1 for k in kept) and sum(audited.values()) == len(
        kept
    )
    differ = len(set(live.items()) ^ set(full.items()))
    return [
        f"lost {lost}",
        f"stored twice {twice}",
        f"left marked {marked}",
        f"violations {len(kept):,} = violated verdicts {len(violated):,}: "
        f"{'yes' if kept == violated else 'NO'}, each recorded once: "
        f"{'yes' if recorded_once else 'NO'}",
        f"live = full re-evaluation: {'yes' if not differ else 'NO'}"
        f" ({len(full):,} verdicts, {differ} differ)",
    ]


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
    parser.add_argument("--rate", type=float, default=5_000.0,
                        help="events/s offered in the open-loop batch phase (0: none)")  # fmt: skip
    parser.add_argument("--live-orders", dest="orders", type=int, default=3_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--workers", type=int, default=2, help="lvyue worker processes (SQLite: 1)")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="the workers' nice value (docs/service.md: below the servers)",
    )
    parser.add_argument("--kill", type=float, default=30.0, help="kill -9 phase (0: none)")
    parser.add_argument("--pg-url", default=os.environ.get("LVYUE_TEST_POSTGRES_URL"))
    args, _ = parser.parse_known_args(argv)
    rows: list[list[str]] = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not args.pg_url:
            print("bench_live: no PostgreSQL (--pg-url or LVYUE_TEST_POSTGRES_URL): skipped")
            continue
        _run_backend(backend, args, rows)
    table = Table(
        title=f"live service on loopback ({Path(lvyue.__file__).parent}): {args.clients} "
        f"clients, {args.server_workers} server processes (SQLite: 1), {args.workers} "
        f"worker(s) (SQLite: 1), {os.cpu_count()} cores (shared; load = 1-min load average)"
    )
    for column in ("backend", "phase", "rate", "p50", "p99", "errors", "note"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
