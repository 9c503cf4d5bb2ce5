"""Console page renders: p50/p95 of the orders list (first and a later keyset page), the
violations list and a merchant's diagnosis page, on SQLite (and PostgreSQL when
``LVYUE_TEST_POSTGRES_URL`` or ``--postgres URL`` is given).

Usage: ``python -m benchmarks.run --only console [--orders N] [--requests R]`` (default
100 000 orders; ``--full`` = 1 M). Orders, shipments and violations are written with bulk
inserts (the simulator is too slow for 1 M here), with the live verdicts the worker keeps
(the engine's own for the newest orders, which the list pages show; synthetic ship-deadline
rows for the rest, which the at-risk list and the dashboard count); the diagnosis page reads
a simulator facts directory of ``--diagnosis-orders`` orders. Each request goes through the
whole app in process (routing, session cookie, permission, query, verdicts, Jinja2)."""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, delete, insert, select

from lvyue.api import create_app
from lvyue.diagnosis import kept
from lvyue.engine.online import evaluate_order
from lvyue.store import (
    Merchant,
    Order,
    Shipment,
    make_engine,
    make_session_factory,
    session_scope,
    upgrade,
)
from lvyue.store.live_tables import LiveVerdict
from lvyue.store.seed import seed_accounts
from lvyue.store.workflow_tables import Violation
from lvyue.workflows import config
from lvyue.workflows.actions.stored_facts import facts_for

MERCHANTS = 1000
TOPIC_MERCHANT = "M0000005"  # topic analysis rolled out, with peers, in the seed-7 world
BATCH = 20_000
JUDGED = 2_000  # newest orders judged by the engine: the merchant's first pages and more
START = datetime(2024, 1, 1, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _fill(url: str, orders: int) -> dict[str, str]:
    """Merchants, orders (90 % shipped, 5 % late-shipment violations), the worker's live
    verdicts of them, demo accounts."""
    engine = make_engine(url)
    merchants = [f"B{n:05d}" for n in range(MERCHANTS)]
    with engine.begin() as conn:
        conn.execute(insert(Merchant), [
            {"merchant_id": m, "name": m, "merchant_type": "domestic"} for m in merchants[1:]
        ])  # fmt: skip
    with session_scope(make_session_factory(engine)) as session:
        issued = seed_accounts(session, [(merchants[0], "基准店", "domestic")])

    def shop(i: int) -> str:  # the measured merchant is a big shop: a tenth of all orders
        return merchants[0] if i % 10 == 3 else merchants[i % MERCHANTS]

    now = datetime.now(UTC)  # the pages' business clock (no demo clock in the benchmark)
    for start in range(0, orders, BATCH):
        ids = range(start, min(start + BATCH, orders))
        paid = {i: START + timedelta(seconds=30 * i) for i in ids}
        with engine.begin() as conn:
            conn.execute(insert(Order), [
                {"order_id": f"BO{i:08d}", "merchant_id": shop(i),
                 "merchant_type": "domestic", "category": "服饰内衣>女装", "ship_mode": "spot",
                 "pay_time": paid[i], "extra": {}, "delayed_shipping": False, "version": 1,
                 "created_at": paid[i]} for i in ids
            ])  # fmt: skip
            conn.execute(insert(Shipment), [
                {"order_id": f"BO{i:08d}", "merchant_id": shop(i),
                 "carrier": "zhongtong", "waybill": f"ZT{i:010d}",
                 "ship_time": paid[i] + timedelta(hours=30 if i % 20 == 0 or i % 40 == 3 else 10)}
                for i in ids if i % 10
            ])  # fmt: skip
            conn.execute(insert(LiveVerdict), [_live(i, shop(i), paid[i], now) for i in ids])
            conn.execute(insert(Violation), [
                {"merchant_id": shop(i), "order_id": f"BO{i:08d}",
                 "aftersale_id": "", "check": "ship_deadline", "clause": "DR-1a",
                 "deadline": paid[i] + timedelta(hours=24), "detected_at": paid[i]
                 + timedelta(hours=25), "source": "bench", "detail": {}}
                for i in ids if i % 20 == 0 or i % 40 == 3
            ])  # fmt: skip
    _judge_newest(engine, now)
    engine.dispose()
    return {a.key: a.password for a in issued} | {"merchant": merchants[0]}


def _judge_newest(engine: Engine, now: datetime) -> None:
    """The worker's own verdicts of the newest ``JUDGED`` orders — every page the benchmark
    opens shows only those — instead of the synthetic ship-deadline rows: what the engine
    says of them as of ``now``, every check, as ``workflows.live`` would store it."""
    newest = select(Order).order_by(Order.pay_time.desc(), Order.order_id.desc()).limit(JUDGED)
    with session_scope(make_session_factory(engine)) as session:
        orders = list(session.scalars(newest))
        verdicts = [
            v
            for facts in facts_for(session, orders)
            for v in evaluate_order(facts, now, config.rules())
        ]
        ids = [o.order_id for o in orders]
        session.execute(delete(LiveVerdict).where(LiveVerdict.order_id.in_(ids)))
        rows = [v.row() | {"facts_at": now, "as_of": now, "changed_at": now} for v in verdicts]
        session.execute(insert(LiveVerdict), [_stored(r) for r in rows])


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("detail")
    return row


def _live(i: int, merchant: str, paid: datetime, now: datetime) -> dict[str, Any]:
    """The worker's live verdict of order ``i``'s shipping deadline: ok or violated when
    shipped, pending when not — and a tenth of the unshipped at risk, due within 12 h of now
    (so the at-risk list and the dashboard's 12-hour count have rows to find)."""
    late = i % 20 == 0 or i % 40 == 3
    status = (
        ("violated" if late else "ok") if i % 10 else ("at_risk" if i % 100 == 0 else "pending")
    )
    deadline = (
        now + timedelta(minutes=i % 720) if status == "at_risk" else paid + timedelta(hours=24)
    )
    return {"order_id": f"BO{i:08d}", "aftersale_id": "", "check": "ship_deadline",
            "merchant_id": merchant, "duty": "merchant", "status": status, "deadline": deadline,
            "done_at": None, "clauses": "DR-1a", "reason": "bench", "facts_at": paid,
            "as_of": now, "changed_at": now}  # fmt: skip


def _login(client: TestClient, name: str, password: str) -> None:
    form = client.get("/console/login")
    token = CSRF.search(form.text)
    assert token is not None
    answer = client.post("/console/login", data={
        "name": name, "password": password, "csrf_token": token.group(1)})  # fmt: skip
    assert answer.status_code == 303, answer.text


def _once(client: TestClient, path: str) -> float:
    start = time.perf_counter()
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return (time.perf_counter() - start) * 1000


def _diagnosis_views(
    operator: TestClient, facts: Path, merchants: list[str], path: str
) -> list[Any]:
    """The precompute (``kept.warm``: what ``lvyue demo`` runs, not a page render), then
    the first view of the page after a restart (memory empty: the kept result on disk)."""
    state = facts.parent / f"state-{uuid.uuid4().hex[:6]}"  # cold for each backend
    os.environ["LVYUE_DIAGNOSIS_STATE"] = str(state)
    kept.clear()
    start = time.perf_counter()
    kept.warm(facts, state, merchants)
    each = (time.perf_counter() - start) * 1000 / len(merchants)
    kept.clear()  # as after a restart: only the disk holds the results
    first = _once(operator, path)
    return [
        ("diagnosis precompute per merchant (not a page; 1 sample)", each, each),
        ("diagnosis page, first view after a restart (1 sample)", first, first),
    ]


def _times(client: TestClient, path: str, requests: int) -> list[float]:
    client.get(path)  # warm (rulebook, caches)
    out = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return out


def _measure(url: str, accounts: dict[str, str], facts: Path, requests: int) -> list[Any]:
    os.environ["LVYUE_DIAGNOSIS_FACTS"] = str(facts)
    os.environ.setdefault("LVYUE_INSPECTION_SECRET", secrets.token_hex(32))  # a run's own
    app = create_app(url)
    merchant = accounts["merchant"]
    rows = []
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as shop:
        _login(shop, f"{merchant}.main", accounts[f"{merchant}.main"])
        first = shop.get("/console/orders").text
        cursor = first.split("cursor=")[1].split('"')[0]
        busiest = _busiest(facts)
        operator = TestClient(app, base_url="https://testserver", follow_redirects=False)
        _login(operator, "operator", accounts["operator"])
        diagnosis = f"/console/diagnosis?merchant={busiest}"
        topic = f"/console/diagnosis?merchant={TOPIC_MERCHANT}"
        rows.extend(_diagnosis_views(operator, facts, [busiest, TOPIC_MERCHANT], diagnosis))
        for label, client, path in (
            ("orders list, merchant, page 1", shop, "/console/orders"),
            ("orders list, merchant, page 2 (keyset)", shop, f"/console/orders?cursor={cursor}"),
            ("orders list, operator, all merchants", operator, "/console/orders"),
            ("violations list, merchant", shop, "/console/violations"),
            ("violations list, operator, all merchants", operator, "/console/violations"),
            ("diagnosis page, repeat views (kept)", operator, diagnosis),
            ("diagnosis page with topic charts, repeat views", operator, topic),
            ("at-risk fragment, merchant (live verdicts)", shop, "/console/orders/at-risk"),
            (
                "dashboard, operator (live verdicts; counts kept 60 s)",
                operator,
                "/console/dashboard",
            ),
        ):
            times = _times(client, path, requests)
            rows.append((label, statistics.median(times), _p95(times)))
    app.state.engine.dispose()
    return rows


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _busiest(facts: Path) -> str:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    counts = pc.value_counts(pq.read_table(facts / "orders.parquet").column("merchant_id"))
    return str(max(counts.to_pylist(), key=lambda c: c["counts"])["values"])


@contextmanager
def _postgres(base: str) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(base)
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"lvyue_bench_console_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_console")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="1 M orders")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--diagnosis-orders", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("LVYUE_TEST_POSTGRES_URL"))
    args, _ = parser.parse_known_args(argv)
    orders = 1_000_000 if args.full else args.orders
    from lvyue.sim import write_facts

    with tempfile.TemporaryDirectory() as tmp:
        facts = Path(tmp) / "facts"
        write_facts(facts, args.diagnosis_orders, 7, progress=False)
        backends = [("SQLite", f"sqlite:///{Path(tmp) / 'console.db'}")]
        results = []
        for name, url in backends:
            results.append((name, *_run(url, orders, facts, args.requests)))
        if args.postgres:
            with _postgres(args.postgres) as url:
                results.append(("PostgreSQL", *_run(url, orders, facts, args.requests)))
    title = (
        f"console page renders ({orders:,} orders; diagnosis facts "
        f"{args.diagnosis_orders:,} orders; {args.requests} requests each)"
    )
    table = Table(title=title)
    for column in ("backend", "page", "load s", "p50 ms", "p95 ms", "p95 ≤ 300 ms"):
        table.add_column(column, justify="left" if column in ("backend", "page") else "right")
    for backend, load, rows in results:
        for label, p50, p95 in rows:
            ok = "yes" if p95 <= 300 else "NO"
            table.add_row(backend, label, f"{load:.0f}", f"{p50:.0f}", f"{p95:.0f}", ok)
    Console(width=140).print(table)


def _run(url: str, orders: int, facts: Path, requests: int) -> tuple[float, list[Any]]:
    upgrade(url)
    start = time.perf_counter()
    accounts = _fill(url, orders)
    load = time.perf_counter() - start
    return load, _measure(url, accounts, facts, requests)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
