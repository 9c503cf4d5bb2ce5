"""Group commit: single requests that arrive together are written in one transaction.

At platform rate most of a single scan's cost was its own transaction — a session, its
statements, a commit — not the scan. Requests now queue their item; while one group is being
written (off the event loop), the next gathers, and is written as soon as the first commits:
no timer, no added wait when the service is idle (a group of one), larger groups exactly when
requests pile up (docs/decisions/service-fast-path.md). A request is answered only after its
group committed, so an answer still means stored.

``write`` decides per item whether the group wrote it (True) or left it (False): the caller
answers a left item on its own path, the one that explains refusals. A group whose
transaction fails is rolled back whole and each of its items is left: nothing half-written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

Item = TypeVar("Item")
MOST = 500  # items per transaction: a bounded statement and lock set (ours)
_log = logging.getLogger(__name__)


class GroupCommit(Generic[Item]):
    """One process's queue of items for ``write`` (one group at a time, in a thread)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        write: Callable[[Session, Sequence[Item]], list[bool]],
    ) -> None:
        self._factory, self._write = factory, write
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[tuple[Item, asyncio.Future[bool]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> bool:
        """Whether ``item`` was written (committed) by its group."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a test client's): start afresh
            self._loop, self._waiting, self._draining = loop, [], None
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((item, future))
        if self._draining is None or self._draining.done():
            self._draining = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MOST], self._waiting[MOST:]
            try:
                written = await run_in_threadpool(self._commit, [item for item, _ in group])
            except Exception:  # each is answered on its own path, which reports its error
                _log.exception("a group of %d failed: each is answered on its own", len(group))
                written = [False] * len(group)
            for (_, future), done in zip(group, written, strict=True):
                if not future.done():  # a request whose client went away is cancelled
                    future.set_result(done)

    def _commit(self, items: list[Item]) -> list[bool]:
        with self._factory() as session:
            written = self._write(session, items)
            session.commit()
            return written
