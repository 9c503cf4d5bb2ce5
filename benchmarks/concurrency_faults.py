"""Fault script (issue 12 item 4): thousands of concurrent *conflicting* requests against a real
server on loopback over PostgreSQL; every answer must be a non-5xx and the final state the one
a single request of each kind would leave.

    python benchmarks/concurrency_faults.py [--requests 6000] [--concurrency 100] [--url PG]

``--url`` (default ``LVYUE_TEST_POSTGRES_URL``): a PostgreSQL server; the script creates a
database of its own there and drops it afterwards. The server is ``uvicorn`` in a subprocess on
127.0.0.1 (nothing leaves the machine). Exits 1 on any 5xx, a transport error or a wrong final
state. Bounded: ``--requests`` in total, at most ``--concurrency`` in flight.

The conflicts, in rounds of 20 identical or rival requests fired together:
- the same order from the platform's feed with the same ``Idempotency-Key`` (all must answer as
  the first);
- the same order without a key (one ``created``, the others ``unchanged``);
- the shipment of one order, same waybill (one ``created``) and rival waybills (one wins, 409);
- one waybill claimed by rival orders (one wins; the others 409, each flagged for review);
- Kuaidi100 repeating one push (bearer route and subscription route alike);
- overlapping JSON batches of the same scans.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.seed import seed_accounts
from lvyue.store.subscriptions import create_subscription
from lvyue.tracking.kuaidi100 import encode_push

SALT = "fault-script-salt"
ROUND = 20  # requests fired together on one record
# Keep-alive longer than the run: a connection closed by the server just as the client reuses
# it is a transport race (httpx ReadError), not an answer of the application.
SERVER = (
    "import sys, uvicorn\n"
    "from lvyue.api.app import create_app\n"
    "uvicorn.run(create_app(sys.argv[1], kuaidi100_salt=sys.argv[3]), host='127.0.0.1',"
    " port=int(sys.argv[2]), log_level='warning', backlog=4096,"
    " timeout_keep_alive=300)\n"
)


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: dict[str, Counter[int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int) -> None:
        self.statuses[status] += 1
        self.by_kind.setdefault(kind, Counter())[status] += 1


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _create_database(base: str) -> tuple[str, str, str]:
    import psycopg

    name = f"lvyue_faults_{uuid.uuid4().hex[:8]}"
    plain = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    return url, plain, name


def _drop_database(plain: str, name: str) -> None:
    import psycopg

    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _order(order_id: str, merchant: str = "m1") -> dict[str, str]:
    return {
        "order_id": order_id,
        "merchant_id": merchant,
        "merchant_type": "domestic",
        "category": "服饰内衣>女装",
        "ship_mode": "spot",
        "pay_time": "2024-03-01 09:00:00",
    }


def _scans(waybill: str) -> list[TrackingEvent]:
    moments = [
        ("2024-03-01 18:00:00", TrackingKind.PICKUP, "【杭州市】快件已揽收"),
        ("2024-03-02 02:00:00", TrackingKind.HUB_ARRIVAL, "快件已到达【杭州转运中心】"),
        ("2024-03-03 15:00:00", TrackingKind.SIGNED, "快件已签收，签收人：本人"),
    ]
    return [
        TrackingEvent("zhongtong", waybill, parse_instant(when), kind, "杭州", text)
        for when, kind, text in moments
    ]


def _outcome(response: httpx.Response) -> Any:
    try:
        return response.json().get("outcome")
    except ValueError:
        return None


Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


class Script:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], callback: str):
        self.client = client
        self.m1 = {"Authorization": f"Bearer {tokens['m1.main']}"}
        self.carrier = {"Authorization": f"Bearer {tokens['carrier']}"}
        self.operator = {"Authorization": f"Bearer {tokens['operator']}"}
        self.callback = callback
        self.tally = Tally()
        self.gate = asyncio.Semaphore(1)

    async def fire(self, kind: str, send: Send) -> list[httpx.Response]:
        """ROUND requests on one record, all in flight together."""
        answers = await asyncio.gather(
            *(send(self.client, i) for i in range(ROUND)), return_exceptions=True
        )
        responses = []
        for answer in answers:
            if isinstance(answer, BaseException):
                self.tally.record(kind, 0)
                self.tally.problems.append(f"{kind}: {type(answer).__name__}: {answer}")
                continue
            self.tally.record(kind, answer.status_code)
            if answer.status_code >= 500:
                self.tally.problems.append(f"{kind}: {answer.status_code} {answer.text[:200]}")
            responses.append(answer)
        return responses

    async def same_key(self, n: int) -> None:
        order, headers = _order(f"k-{n}"), {**self.operator, "Idempotency-Key": f"key-{n}"}
        got = await self.fire(
            "order, one key", lambda c, _: c.post("/orders", json=order, headers=headers)
        )
        self._expect({_outcome(r) for r in got} == {"created"}, f"k-{n}: {got}")

    async def same_order(self, n: int) -> None:
        order = _order(f"o-{n}")
        got = await self.fire(
            "order, no key", lambda c, _: c.post("/orders", json=order, headers=self.operator)
        )
        outcomes = Counter(_outcome(r) for r in got)
        self._expect(outcomes["created"] == 1, f"o-{n}: {outcomes}")

    async def shipments(self, n: int) -> None:
        order_id = f"s-{n}"
        await self.client.post("/orders", json=_order(order_id), headers=self.operator)
        same = {"carrier": "zhongtong", "waybill": f"ZTS{n}"}
        path = f"/orders/{order_id}/shipment"
        got = await self.fire(
            "ship, same waybill", lambda c, _: c.post(path, json=same, headers=self.m1)
        )
        created = sum(_outcome(r) == "created" for r in got if r.status_code == 201)
        self._expect(created == 1, f"{order_id}: {created} created")
        rival_id = f"r-{n}"
        await self.client.post("/orders", json=_order(rival_id), headers=self.operator)
        rival = f"/orders/{rival_id}/shipment"

        def one(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
            return c.post(
                rival, json={"carrier": "zhongtong", "waybill": f"ZTR{n}x{i}"}, headers=self.m1
            )

        got = await self.fire("ship, rival waybills", one)
        codes = Counter(r.status_code for r in got)
        self._expect(codes[201] == 1 and codes[409] == ROUND - 1, f"{rival_id}: {codes}")
        claimants = [f"c-{n}x{i}" for i in range(ROUND)]
        for claimant in claimants:
            await self.client.post("/orders", json=_order(claimant), headers=self.operator)
        claimed = {"carrier": "zhongtong", "waybill": f"ZTC{n}"}

        def claim(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
            return c.post(f"/orders/{claimants[i]}/shipment", json=claimed, headers=self.m1)

        got = await self.fire("one waybill, rival orders", claim)
        codes = Counter(r.status_code for r in got)
        self._expect(codes[201] == 1 and codes[409] == ROUND - 1, f"ZTC{n}: {codes}")

    async def pushes(self, n: int) -> None:
        order_id, waybill = f"p-{n}", f"ZTP{n}"
        # the platform's record of a past shipment: its past scans are taken as recorded
        # (a live shipment's scans from before it was shipped would be held for review)
        shipped = {"carrier": "zhongtong", "waybill": waybill, "ship_time": "2024-03-01 12:00:00"}
        await self.client.post(
            "/orders", json={**_order(order_id), **shipped}, headers=self.operator
        )
        form = encode_push("zhongtong", waybill, _scans(waybill), salt=SALT)
        await self.fire(
            "push, bearer",
            lambda c, _: c.post("/carriers/kuaidi100/push", data=form, headers=self.carrier),
        )
        await self.fire("push, subscription", lambda c, _: c.post(self.callback, data=form))
        rows = [
            {
                "carrier": e.carrier,
                "waybill": e.waybill,
                "time": e.time.isoformat(),
                "kind": e.kind.value,
                "location": e.location,
                "text": e.text,
            }
            for e in _scans(waybill)
        ]
        await self.fire(
            "scan batch",
            lambda c, i: c.post(
                "/ingest/tracking", json={"rows": rows[i % 3 :]}, headers=self.carrier
            ),
        )
        got = await self.client.get(f"/orders/{order_id}", headers=self.m1)
        kinds = [e["kind"] for e in got.json().get("tracking", [])] if got.is_success else []
        self._expect(kinds == ["pickup", "hub_arrival", "signed"], f"{order_id}: {kinds}")

    def _expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.tally.problems.append(f"wrong final state: {what}")


async def _run(
    base_url: str, tokens: dict[str, str], callback: str, total: int, parallel: int
) -> Tally:
    limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        script = Script(client, tokens, callback)
        # One "unit" of each kind: 20 + 20 + 60 + 60 = 160 conflicting requests (+ set-up).
        kinds = [script.same_key, script.same_order, script.shipments, script.pushes]
        units = max(1, total // 160)
        gate = asyncio.Semaphore(max(1, parallel // ROUND))

        async def unit(n: int) -> None:
            async with gate:
                for kind in kinds:
                    await kind(n)

        await asyncio.gather(*(unit(n) for n in range(units)))
        return script.tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="concurrency_faults", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=6000, help="conflicting requests in all")
    parser.add_argument("--concurrency", type=int, default=100, help="at most this many in flight")
    parser.add_argument("--url", default=os.environ.get("LVYUE_TEST_POSTGRES_URL"))
    args = parser.parse_args(argv)
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("--url (or LVYUE_TEST_POSTGRES_URL) must name a PostgreSQL server")
    url, plain, name = _create_database(args.url)
    server = None
    try:
        upgrade(url)
        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            issued = {a.key: a for a in seed_accounts(session, (("m1", "一号店", "domestic"),))}
            subscription = create_subscription(
                session, issued["carrier"].account_id, "script", SALT
            )
            callback = f"/carriers/kuaidi100/push/{subscription.subscription_id}"
        engine.dispose()
        port = _port()
        # a throwaway server: a throwaway inspection-code key unless one is set
        env = {"LVYUE_INSPECTION_SECRET": secrets.token_hex(32), **os.environ}
        server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port), SALT], env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        tokens = {key: a.token for key, a in issued.items()}
        started = time.perf_counter()
        tally = asyncio.run(_run(base, tokens, callback, args.requests, args.concurrency))
        elapsed = time.perf_counter() - started
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        _drop_database(plain, name)
    fired = sum(tally.statuses.values())
    errors = sum(n for status, n in tally.statuses.items() if status >= 500 or status == 0)
    print(f"{fired} conflicting requests in {elapsed:.1f} s on PostgreSQL: {errors} server errors")
    for kind, counts in tally.by_kind.items():
        print(f"  {kind:22} {dict(sorted(counts.items()))}")
    for problem in tally.problems[:20]:
        print(f"  ! {problem}")
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
