"""A BT-9 video larger than the service's 16 MiB body limit goes up and comes back in chunks:
a real server process (uvicorn on 127.0.0.1) takes a 40 MiB upload and serves it back while
its peak resident memory grows by far less than the file (never the whole body in memory)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lvyue.api.limits import DEFAULT_MAX_BODY
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.seed import seed_accounts

SERVER = (
    "import sys, uvicorn\n"
    "from lvyue.api.app import create_app\n"
    "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]),"
    " log_level='warning')\n"
)
SIZE = 40 * 1024 * 1024
GROWTH_LIMIT = 12 * 1024 * 1024  # well below the file: a few 1 MiB chunks and the spool


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def _peak_growth(pid: int, act: object) -> int:
    """How far the process's peak resident set rises above its size while ``act()`` runs."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again at the current size
    before = _kib(pid, "VmRSS")
    act()  # type: ignore[operator]
    return _kib(pid, "VmHWM") - before


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], int]]:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc to read a process's peak memory")
    base = tmp_path_factory.mktemp("stream")
    url = f"sqlite:///{base / 'lvyue.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        issued = {a.key: a.token for a in seed_accounts(session, (("m1", "一号店", "domestic"),))}
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "LVYUE_EVIDENCE_DIR": str(base / "evidence")}
    process = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env)
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{address}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        tokens = {key: f"Bearer {token}" for key, token in issued.items()}
        yield address, tokens, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _shipped_order(address: str, tokens: dict[str, str], order_id: str) -> None:
    order = {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
             "category": "服饰内衣>女装", "ship_mode": "spot",
             "pay_time": "2024-02-09 10:00:00"}  # fmt: skip
    made = httpx.post(f"{address}/orders", json=order,
                      headers={"Authorization": tokens["operator"]})  # fmt: skip
    assert made.status_code == 201, made.text
    shipped = httpx.post(f"{address}/orders/{order_id}/shipment",
                         json={"carrier": "zhongtong", "waybill": f"ZT{order_id}"},
                         headers={"Authorization": tokens["m1.main"]})  # fmt: skip
    assert shipped.status_code == 201, shipped.text


def _video(path: Path, size: int) -> str:
    """A file of ``size`` bytes that starts as an MP4, written in chunks; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        head = b"\x00\x00\x00\x18ftypmp42"
        out.write(head)
        digest.update(head)
        written = len(head)
        while written < size:
            chunk = os.urandom(min(1024 * 1024, size - written))
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def test_a_40_mib_video_streams_up_and_down_in_bounded_memory(
    server: tuple[str, dict[str, str], int], tmp_path: Path
) -> None:
    address, tokens, pid = server
    m1 = {"Authorization": tokens["m1.main"]}
    _shipped_order(address, tokens, "big-1")
    _shipped_order(address, tokens, "warm-1")
    path = "/orders/{}/shipment/packing-video"
    small = tmp_path / "small.mp4"
    _video(small, 2 * 1024 * 1024)  # warm up: every module the upload path needs is loaded
    with small.open("rb") as file:
        warm = httpx.post(address + path.format("warm-1"), headers=m1, timeout=60,
                          files={"file": ("s.mp4", file, "video/mp4")})  # fmt: skip
    assert warm.status_code == 201, warm.text
    big = tmp_path / "big.mp4"
    sha = _video(big, SIZE)
    assert SIZE > DEFAULT_MAX_BODY  # past the service's own limit: the route has its own
    answers: list[httpx.Response] = []

    def upload() -> None:
        with big.open("rb") as file:
            answers.append(httpx.post(address + path.format("big-1"), headers=m1, timeout=120,
                                      files={"file": ("b.mp4", file, "video/mp4")}))  # fmt: skip

    grew = _peak_growth(pid, upload)
    assert answers[0].status_code == 201, answers[0].text
    assert answers[0].json()["sha256"] == sha and answers[0].json()["size"] == SIZE
    print(f"upload of {SIZE >> 20} MiB: peak RSS grew {grew / 2**20:.1f} MiB")
    assert grew < GROWTH_LIMIT

    received = hashlib.sha256()

    def download() -> None:
        with httpx.stream("GET", address + path.format("big-1"), headers=m1, timeout=120) as r:
            assert r.status_code == 200 and r.headers["content-length"] == str(SIZE)
            for chunk in r.iter_bytes():
                received.update(chunk)

    grew = _peak_growth(pid, download)
    print(f"download of {SIZE >> 20} MiB: peak RSS grew {grew / 2**20:.1f} MiB")
    assert received.hexdigest() == sha
    assert grew < GROWTH_LIMIT
