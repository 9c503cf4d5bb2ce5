"""Issue 11 item 4: the service agrees with batch. 10,000 simulated orders (with their scans
and after-sales requests) go through the API's bulk ingestion; the verdicts the service
computes from its database (the path of GET /workflows/orders/{id}/verdicts and the worker's
violations sweep) equal those of ``lvyue evaluate`` on the same facts, row for row. SQLite
only: the PostgreSQL store is covered by the service tests; this one is about the engine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lvyue.api import create_app
from lvyue.cli.main import app as cli
from lvyue.engine import iter_order_facts
from lvyue.engine.online import evaluate_order
from lvyue.facts import load_facts
from lvyue.model import format_instant, parse_instant
from lvyue.model.time import epoch_seconds
from lvyue.sim import write_facts
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.accounts import create_merchant
from lvyue.store.seed import seed_accounts
from lvyue.store.tables import Order
from lvyue.workflows import config
from lvyue.workflows.actions.stored_facts import facts_for

ORDERS, SEED = 10_000, 20261206
AS_OF = "2024-03-20 00:00:00"
INGESTED = ("orders", "tracking", "after_sales")  # what the service takes in bulk
CHUNK = 2_000
Row = tuple[str, str, str, str, int | None, int | None, str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("differential")
    facts = root / "facts"
    write_facts(facts, ORDERS, SEED, progress=False)
    for table in ("reports", "inspections"):  # not taken in by bulk ingestion: both without
        path = facts / f"{table}.parquet"
        pq.write_table(pq.read_table(path).slice(0, 0), path)
    url = f"sqlite:///{root / 'service.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        for m in pq.read_table(facts / "merchants.parquet").to_pylist():
            create_merchant(session, m["merchant_id"], m["name"], m["merchant_type"])
        session.flush()
        # the platform's import (orders, after-sales) and Kuaidi100's pushes (scans)
        tokens = {a.key: a.token for a in seed_accounts(session, [])}
    engine.dispose()
    service = create_app(url)
    with TestClient(service) as client:
        for table in INGESTED:
            who = "carrier" if table == "tracking" else "operator"
            auth = {"Authorization": f"Bearer {tokens[who]}"}
            rows = [_json(r) for r in pq.read_table(facts / f"{table}.parquet").to_pylist()]
            for start in range(0, len(rows), CHUNK):
                body = {"rows": rows[start : start + CHUNK]}
                r = client.post(f"/ingest/{table}", json=body, headers=auth)
                assert r.status_code == 202, r.text[:500]  # a bulk upload is a job
                result = _finished(client, r.json()["location"], auth)
                assert result["quarantined"] == [], result["errors"][:5]
        yield url, facts
    service.state.engine.dispose()


def _finished(client: TestClient, location: str, auth: dict[str, str]) -> dict[str, Any]:
    """The result of an ingestion job once the app's runner has finished it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = client.get(location, headers=auth).json()
        if job["status"] in ("done", "failed"):
            assert job["status"] == "done", job["error"]
            result: dict[str, Any] = job["result"]
            return result
        time.sleep(0.2)
    raise AssertionError(f"job {location} did not finish in 300 s")


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: format_instant(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_seconds(moment)


def test_the_service_and_lvyue_evaluate_give_the_same_verdicts(
    world: tuple[str, Path], tmp_path: Path
) -> None:
    url, facts = world
    out = tmp_path / "batch.parquet"
    done = CliRunner().invoke(cli, ["evaluate", str(facts), "--as-of", AS_OF, "--out", str(out)])
    assert done.exit_code == 0, done.output
    batch: list[Row] = [
        (v["order_id"], v["aftersale_id"], v["check"], v["status"], _epoch(v["deadline"]),
         _epoch(v["done_at"]), v["clauses"], v["reason"])
        for v in pq.read_table(out).to_pylist()
    ]  # fmt: skip
    engine = make_engine(url)
    as_of = parse_instant(AS_OF)
    with session_scope(make_session_factory(engine)) as session:
        orders = list(session.query(Order).order_by(Order.order_id))
        assert len(orders) == ORDERS
        service: list[Row] = [
            (v.order_id, v.aftersale_id, v.check.value, v.status.value, _epoch(v.deadline),
             _epoch(v.done_at), v.clauses, v.reason)
            for f in facts_for(session, orders)
            for v in evaluate_order(f, as_of, config.rules())
        ]  # fmt: skip
    engine.dispose()
    assert len(batch) > 4 * ORDERS
    missing, extra = sorted(set(batch) - set(service)), sorted(set(service) - set(batch))
    assert (missing[:5], extra[:5]) == ([], []), (
        f"{len(missing)} batch-only, {len(extra)} service-only"
    )
    assert sorted(batch) == sorted(service)
    statuses = {row[3] for row in batch}
    assert {"ok", "violated", "scheduled"} <= statuses


def test_the_service_keeps_every_after_sales_fact(world: tuple[str, Path]) -> None:
    """What bulk ingestion accepted reaches the engine whole: each order's after-sales
    requests read back from the store equal the facts file's, VF-8's ``reason`` included."""
    url, facts = world
    from_file = {f.order.order_id: f.after_sales for f in iter_order_facts(load_facts(facts))}
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        orders = list(session.query(Order).order_by(Order.order_id))
        stored = {f.order.order_id: f.after_sales for f in facts_for(session, orders)}
    engine.dispose()

    def key(requests: tuple[Any, ...]) -> list[Any]:
        return sorted(requests, key=lambda r: r.aftersale_id)

    differ = [o for o in from_file if key(from_file[o]) != key(stored[o])]
    assert differ == []
    reasons = {r.reason for requests in stored.values() for r in requests}
    assert {"defect", "not_as_described"} <= reasons  # the indicators' reasons are stored
