"""Single scans written in groups (``api.group_commit``): every request is answered as the
one-row path answers it, each new scan is stored and audited once, and a group that fails is
answered one by one. Concurrency is real: the requests run on one event loop (ASGI) while
the first group is held in its transaction."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import func, select

from lvyue.api.testing import ServiceWorld
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.tables import AuditEntry, TrackingEvent

_times = itertools.count()


def _scan(waybill: str, carrier: str = "zhongtong") -> dict[str, str]:
    # minutes apart, well in the past: no shipment, so nothing holds them
    return {"carrier": carrier, "waybill": waybill, "kind": "in_transit",
            "time": f"2024-03-01T{next(_times) % 24:02d}:00:00+08:00"}  # fmt: skip


class _Recorded:
    """Wraps the app's group writer: records each group's size; the first group (or every
    one, ``fail``) waits ``hold`` seconds in its transaction, then writes or raises."""

    def __init__(self, service: ServiceWorld, hold: float, fail: bool = False) -> None:
        self.group = service.client.app.state.scan_group  # type: ignore[attr-defined]
        self.inner, self.hold, self.fail = self.group._write, hold, fail
        self.sizes: list[int] = []

    def __call__(self, session: Any, items: Sequence[Any]) -> list[bool]:
        self.sizes.append(len(items))
        if len(self.sizes) == 1:
            time.sleep(self.hold)  # the others gather meanwhile
        if self.fail:
            raise RuntimeError("the group's transaction failed")
        written: list[bool] = self.inner(session, items)
        return written

    def __enter__(self) -> _Recorded:
        self.group._write = self
        return self

    def __exit__(self, *_: object) -> None:
        self.group._write = self.inner


async def _post_all(service: ServiceWorld, posts: list[tuple[str, dict[str, str]]]) -> list[Any]:
    transport = httpx.ASGITransport(app=service.client.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return list(
            await asyncio.gather(
                *(client.post("/tracking", json=b, headers=service.auth(k)) for k, b in posts)
            )
        )


def _one_row(service: ServiceWorld, who: str, body: dict[str, str]) -> httpx.Response:
    """The same request on the one-row path (an Idempotency-Key never joins a group)."""
    headers = {**service.auth(who), "Idempotency-Key": uuid.uuid4().hex}
    return service.client.post("/tracking", json=body, headers=headers)


def _stored(service: ServiceWorld, waybills: set[str]) -> tuple[int, int]:
    engine = make_engine(service.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            scans = session.scalar(select(func.count()).where(TrackingEvent.waybill.in_(waybills)))
            details = session.scalars(
                select(AuditEntry.detail).where(
                    AuditEntry.action == "tracking.create",
                    AuditEntry.entity_id.in_([f"zhongtong:{w}" for w in waybills]),
                )
            ).all()
            assert all(d == {"via": "POST /tracking"} for d in details)
            audited = len(details)
            return scans or 0, audited or 0
    finally:
        engine.dispose()


def test_concurrent_scans_are_grouped_and_each_answered_as_alone(service: ServiceWorld) -> None:
    tag = uuid.uuid4().hex[:6]
    fresh = [("carrier", _scan(f"GC{tag}-{n}")) for n in range(24)]
    twice = _scan(f"GC{tag}-twice")
    refused = ("m1.main", _scan(f"GC{tag}-not-m1s"))  # m1 shipped no such parcel
    posts = [*fresh, ("carrier", twice), ("carrier", dict(twice)), refused]
    with _Recorded(service, hold=0.3) as recorded:
        answers = asyncio.run(_post_all(service, posts))
    assert max(recorded.sizes) > 1, recorded.sizes  # requests really were grouped
    for response in answers[:24]:
        assert response.status_code == 201 and response.json()["outcome"] == "created"
    pair = sorted(r.json()["outcome"] for r in answers[24:26])
    assert [r.status_code for r in answers[24:26]] == [201, 201] and pair == [
        "created",
        "unchanged",
    ]
    alone = _one_row(service, *refused)
    assert (answers[26].status_code, answers[26].json()) == (alone.status_code, alone.json())
    assert answers[26].status_code >= 400
    waybills = {b["waybill"] for _, b in posts[:25]}
    assert _stored(service, waybills) == (25, 25)  # each new scan stored once, audited once


def test_a_failed_group_is_answered_one_by_one_nothing_twice(service: ServiceWorld) -> None:
    tag = uuid.uuid4().hex[:6]
    posts = [("carrier", _scan(f"GF{tag}-{n}")) for n in range(12)]
    with _Recorded(service, hold=0.2, fail=True) as recorded:
        answers = asyncio.run(_post_all(service, posts))
    assert recorded.sizes and sum(recorded.sizes) == 12  # every group failed ...
    assert [(r.status_code, r.json()["outcome"]) for r in answers] == [(201, "created")] * 12
    assert _stored(service, {b["waybill"] for _, b in posts}) == (12, 12)  # ... none is lost
