"""Who a bearer token is, remembered for a moment: the service's token cache.

Every request used to look its token up (and, for a sub-account, its positions) in the
database: a round trip and a session per request, the largest share of a single scan's cost
at platform rate (docs/decisions/service-fast-path.md). A valid token's principal is now
remembered per process for at most ``ttl`` seconds (``LVYUE_TOKEN_CACHE_SECONDS``, default
1; 0: off) and never beyond the token's expiry.

Freshness: any commit in this process that changes an account, a token or a position
(revocation, deactivation, a role or a grant; through ORM objects or ORM ``update``/
``delete`` statements) forgets every remembered principal at once, so the process that made
the change never answers with the old one. Another server process
honours the old principal for at most ``ttl`` seconds: the bound this cache trades for a
round trip per request (ours; an API gateway's token cache makes the same trade with
minutes). Refusals are never remembered: a token that becomes valid is seen at once.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session
from starlette.concurrency import run_in_threadpool

from lvyue.store.accounts import hash_token
from lvyue.store.tables import Account, AccountPosition, ApiToken, Position, PositionPermission

DEFAULT_TTL = 1.0  # seconds; ours
_MOST = 10_000  # remembered tokens per process; beyond, the cache starts again
_WHO_MAY_DO_WHAT = (Account, ApiToken, Position, PositionPermission, AccountPosition)
_CHANGED = "lvyue.principals_changed"
P = TypeVar("P")


class _Generation:
    """Bumped after every commit that changed who may do what (in this process; commits run
    in threads, so under a lock: a lost increment could revive a forgotten principal)."""

    value = 0
    lock = threading.Lock()


def _flag(_mapper: Mapper[Any], connection: Any, target: object) -> None:
    session = Session.object_session(target)
    if session is not None:
        session.info[_CHANGED] = True


def _flag_statement(state: ORMExecuteState) -> None:
    """An ORM ``update``/``delete``/``insert`` statement (no objects, so no mapper event)."""
    writes = state.is_update or state.is_delete or state.is_insert
    if writes and any(mapper.class_ in _WHO_MAY_DO_WHAT for mapper in state.all_mappers):
        state.session.info[_CHANGED] = True


def _bump(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        with _Generation.lock:
            _Generation.value += 1


def _forget_flag(session: Session, previous: Any = None) -> None:
    if previous is None or not getattr(previous, "nested", False):  # a savepoint keeps it
        session.info.pop(_CHANGED, None)


for _table in _WHO_MAY_DO_WHAT:
    for _name in ("after_insert", "after_update", "after_delete"):
        event.listen(_table, _name, _flag)
event.listen(Session, "do_orm_execute", _flag_statement)
event.listen(Session, "after_commit", _bump)
event.listen(Session, "after_soft_rollback", _forget_flag)


def ttl_from_env() -> float:
    raw = os.environ.get("LVYUE_TOKEN_CACHE_SECONDS", "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_TTL
    except ValueError:
        message = f"LVYUE_TOKEN_CACHE_SECONDS must be a number of seconds, not {raw!r}"
        raise SystemExit(message) from None


class Principals(Generic[P]):
    """A process's remembered principals, by token hash; ``load`` (run off the event loop)
    returns a token's principal and the seconds its token stays valid, or raises."""

    def __init__(self, load: Callable[[str], tuple[P, float]], ttl: float) -> None:
        self._load, self._ttl = load, ttl
        self._known: dict[str, tuple[P, float, int]] = {}
        # reads under way, with the generation they started in (a waiter joins only those)
        self._loading: dict[str, tuple[asyncio.Future[tuple[P, float]], int]] = {}

    async def of(self, token: str) -> P:
        key = hash_token(token)
        known = self._known.get(key)
        if known is not None and known[1] > time.monotonic() and known[2] == _Generation.value:
            return known[0]
        loading = self._loading.get(key)
        if loading is not None and loading[1] == _Generation.value:
            return (await asyncio.shield(loading[0]))[0]  # one read per token at a time
        # both before the read: a change committed meanwhile wins, and the bound counts
        # from the read, not from when a pool thread got to it
        generation, read_at = _Generation.value, time.monotonic()
        future = asyncio.ensure_future(run_in_threadpool(self._load, token))
        self._loading[key] = (future, generation)
        try:
            principal, valid_for = await asyncio.shield(future)
        finally:
            if self._loading.get(key, (None,))[0] is future:
                del self._loading[key]
        if self._ttl > 0:
            if len(self._known) >= _MOST:
                self._known.clear()
            until = read_at + min(self._ttl, valid_for)
            self._known[key] = (principal, until, generation)
        return principal
