"""A minimal HTTP/1.1 keep-alive client for the live benchmark's load phases.

httpx.AsyncClient spent more CPU per request than the server it measured (60–78 % of a core
for ~81 single requests/s on this 2-core machine): the generator was the bottleneck and
took CPU from the server. This client does only what the benchmark needs: one connection,
one path, the request head encoded once, JSON in, a ``Content-Length`` answer out. It
refuses what it does not implement (chunked answers, no ``Content-Length``) rather than
guessing, and any failure (refused, reset, end of stream, bad framing, timeout) closes the
connection and raises :class:`Unanswered`; the next ``post`` connects again.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class Unanswered(Exception):
    """The request got no usable answer: the connection is closed; the next post reconnects."""


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, ``Content-Length`` and keep-alive of a response head (ending in CRLF CRLF)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
        raise Unanswered(f"not an HTTP/1.1 status line: {lines[0]!r}")
    length: int | None = None
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value) if value.isdigit() else -1
        elif name == "transfer-encoding":
            raise Unanswered(f"transfer-encoding {value!r} is not supported (no chunked)")
        elif name == "connection":
            keep_alive = value != "close"
    if length is None or length < 0:
        raise Unanswered("the response has no valid Content-Length")
    return int(parts[1]), length, keep_alive


class Poster:
    """POSTs JSON bodies to one path of one server over one kept-alive connection."""

    def __init__(self, base: str, path: str, token: str, timeout: float = 120.0) -> None:
        url = urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.timeout = timeout
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode("latin-1")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """Status and body of the answer; :class:`Unanswered` if there was none."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(body)
        except (OSError, EOFError, asyncio.LimitOverrunError, ValueError) as error:
            # OSError covers refused, reset and TimeoutError; EOFError the server's close
            self.close()
            raise Unanswered(repr(error)) from error
        except Unanswered:
            self.close()
            raise

    async def _exchange(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
        await self.writer.drain()
        status, length, keep_alive = parse_head(await self.reader.readuntil(b"\r\n\r\n"))
        answer = await self.reader.readexactly(length)
        if not keep_alive:
            self.close()
        return status, answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
