"""The live benchmark's raw HTTP client (benchmarks/http_load.py): it reads the answers a
server gives, refuses framings it does not implement, and turns a closed connection into
an unanswered request followed by a reconnect (the kill phase counts on both)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

LOAD = Path(__file__).parents[2] / "benchmarks" / "http_load.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("http_load_under_test", LOAD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


http_load = _load()


def test_a_head_gives_status_length_and_keep_alive() -> None:
    head = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 42\r\n\r\n"
    assert http_load.parse_head(head) == (201, 42, True)
    closing = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    assert http_load.parse_head(closing) == (503, 0, False)


def test_a_chunked_answer_is_refused_by_name() -> None:
    with pytest.raises(http_load.Unanswered, match="chunked"):
        http_load.parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: twelve\r\n\r\n",
        b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n",
        b"garbage\r\n\r\n",
    ],
)
def test_framings_it_does_not_implement_are_refused(head: bytes) -> None:
    with pytest.raises(http_load.Unanswered):
        http_load.parse_head(head)


def test_posts_keep_one_connection_and_reconnect_after_the_server_closes_it() -> None:
    asyncio.run(_round_trips())


async def _round_trips() -> None:
    """A server that answers two requests per connection, then closes it without answering
    the third: the client sends the head once per request, keeps the connection, gets
    Unanswered for the third and reconnects for the fourth."""
    seen: list[bytes] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        for _ in range(2):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            seen.append(head + await reader.readexactly(length))
            body = b'{"created": %d}' % len(seen)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the third request: no answer
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    poster = http_load.Poster(f"http://127.0.0.1:{port}", "/ingest/tracking", "t0k", timeout=5)
    assert await poster.post(b'{"rows": []}') == (200, b'{"created": 1}')
    assert await poster.post(b"{}") == (200, b'{"created": 2}')
    with pytest.raises(http_load.Unanswered):
        await poster.post(b"{}")
    assert await poster.post(b"{}") == (200, b'{"created": 3}')
    poster.close()
    server.close()
    await server.wait_closed()
    assert connections == 2
    assert seen[0] == (
        b"POST /ingest/tracking HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer t0k\r\n"
        b'Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{"rows": []}' % port
    )


def test_a_refused_connection_is_unanswered() -> None:
    async def refused() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(http_load.Unanswered):
            await http_load.Poster(f"http://127.0.0.1:{port}", "/x", "t", timeout=5).post(b"{}")

    asyncio.run(refused())
