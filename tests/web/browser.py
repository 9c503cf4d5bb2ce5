"""A real console for the browser tests: the demo database (simulator data and an account of
every role), served by uvicorn on a free 127.0.0.1 port in a thread, and Debian's chromium."""

from __future__ import annotations

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


@dataclass
class LiveConsole:
    base: str
    accounts: dict[str, IssuedAccount]
    merchants: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response:
        token = self.accounts[key].token
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_console(directory: Path, orders: int = 400) -> Iterator[LiveConsole]:
    demo = build_demo(directory, orders=orders, seed=20240214)
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
    accounts = {a.key: a for a in demo.accounts}
    merchants = [a.merchant_id for a in demo.accounts if a.key.endswith(".main") and a.merchant_id]
    try:
        yield LiveConsole(f"http://127.0.0.1:{port}", accounts, merchants)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()
