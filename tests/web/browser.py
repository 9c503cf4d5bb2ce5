"""A real console for the browser tests: the demo database (simulator data and an account of
every role), served by uvicorn on a free 127.0.0.1 port in a thread, and Debian's chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from lvyue.api import create_app
from lvyue.api.demo import build_demo
from lvyue.sim import write_facts
from lvyue.store import make_engine, make_session_factory
from lvyue.store.seed import IssuedAccount
from lvyue.store.sweeps import run_due

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
DIAGNOSIS_ENV = ("LVYUE_DIAGNOSIS_FACTS", "LVYUE_DIAGNOSIS_STATE", "LVYUE_PREVIEW_FACTS")


@dataclass
class LiveConsole:
    base: str
    accounts: dict[str, IssuedAccount]
    merchants: list[str] = field(default_factory=list)
    busiest: str = ""  # the merchant with the most orders (a diagnosis past cold start)
    url: str = ""  # the database

    def judge(self) -> None:
        """One ``lvyue worker`` pass over the marked orders (live verdicts)."""
        from lvyue.workflows import config
        from lvyue.workflows.live import drain

        engine = make_engine(self.url)
        drain(make_session_factory(engine), config.rules())
        engine.dispose()

    def api(self, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response:
        token = self.accounts[key].token
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_console(
    directory: Path, orders: int = 400, diagnosis_orders: int = 20_000
) -> Iterator[LiveConsole]:
    """The demo's database of ``orders`` orders; the diagnosis pages read a separate
    simulated snapshot of ``diagnosis_orders`` (seed 7): topic analysis needs same-industry
    peers with shipping history, which a few hundred orders do not give."""
    demo = build_demo(directory, orders=orders, seed=20240214)
    diagnosis_facts = directory / "diagnosis-facts"
    write_facts(diagnosis_facts, diagnosis_orders, 7, fmt="parquet", progress=False)
    factory = make_session_factory(make_engine(demo.url))
    run_due(factory, worker="browser-test")  # record violations, as the worker would
    app = create_app(demo.url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    saved = {name: os.environ.get(name) for name in DIAGNOSIS_ENV}
    os.environ["LVYUE_DIAGNOSIS_FACTS"] = str(diagnosis_facts)
    os.environ["LVYUE_DIAGNOSIS_STATE"] = str(directory / "governance")
    os.environ["LVYUE_PREVIEW_FACTS"] = str(demo.facts_dir)  # the demo's own orders
    accounts = {a.key: a for a in demo.accounts}
    merchants = [a.merchant_id for a in demo.accounts if a.key.endswith(".main") and a.merchant_id]
    try:
        base = f"http://127.0.0.1:{port}"
        console = LiveConsole(base, accounts, merchants, _busiest(diagnosis_facts), demo.url)
        console.judge()  # the worker's live verdicts of the demo's orders
        yield console
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def _busiest(facts: Path) -> str:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    counts = pc.value_counts(pq.read_table(facts / "orders.parquet").column("merchant_id"))
    best = max(counts.to_pylist(), key=lambda c: (c["counts"], c["values"]))
    return str(best["values"])
