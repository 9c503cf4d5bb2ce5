"""The demo database: a fresh SQLite file filled by the simulator, with demo accounts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lvyue.sim import simulate, write_facts
from lvyue.store import make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.accounts import create_merchant
from lvyue.store.ingest import BatchResult, Scope, ingest_rows
from lvyue.store.seed import IssuedAccount, seed_accounts
from lvyue.store.tables import Merchant

Progress = Callable[[str, int, int], None]  # (table, rows done, rows total)
_INGESTED = ("orders", "tracking", "after_sales")
_CHUNK = 2000


@dataclass
class DemoResult:
    url: str
    facts_dir: Path  # the same marketplace as a facts directory, for the diagnosis endpoints
    loaded: dict[str, BatchResult] = field(default_factory=dict)
    accounts: list[IssuedAccount] = field(default_factory=list)


def build_demo(
    directory: Path, *, orders: int, seed: int, progress: Progress | None = None
) -> DemoResult:
    """Replace ``directory/lvyue.db`` with a migrated database holding simulated facts and an
    account of every role (tokens in the result, shown once)."""
    from lvyue.workflows import hooks as workflow_hooks

    workflow_hooks.register()  # the demo's orders ship through the same checks as the API's
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lvyue.db"
    for stale in (path, path.with_name("lvyue.db-wal"), path.with_name("lvyue.db-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    upgrade(url)
    tables = _facts(orders, seed)
    facts_dir = directory / "facts"
    write_facts(facts_dir, orders, seed, fmt="parquet", progress=False)  # same seed, same data
    result = DemoResult(url=url, facts_dir=facts_dir.resolve())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    merchants = _merchants(tables)
    with session_scope(factory) as session:
        for merchant_id, name, kind in merchants:
            if session.get(Merchant, merchant_id) is None:
                create_merchant(session, merchant_id, name, kind)
        session.flush()
        result.accounts = seed_accounts(session, merchants[:2])
    for table in _INGESTED:
        rows = tables.get(table, [])
        total = BatchResult()
        for start in range(0, len(rows), _CHUNK):
            with session_scope(factory) as session:
                part = ingest_rows(
                    session,
                    table,
                    rows[start : start + _CHUNK],
                    Scope(),
                    "demo",
                    first_line=start + 2,
                )
            for name in ("created", "updated", "unchanged"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            total.quarantined += part.quarantined
            if progress:
                progress(table, min(start + _CHUNK, len(rows)), len(rows))
        result.loaded[table] = total
    engine.dispose()
    return result


def _facts(orders: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The simulator's tables as rows, for ingestion through the service's own batch path."""
    return {name: table.to_pylist() for name, table in simulate(orders, seed).items()}


def _merchants(tables: Mapping[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    rows = tables.get("merchants") or []
    if rows:
        return [
            (
                str(r["merchant_id"]),
                str(r.get("name") or r["merchant_id"]),
                str(r.get("merchant_type") or "domestic"),
            )
            for r in rows
        ]
    seen: dict[str, str] = {}
    for order in tables.get("orders", []):
        seen.setdefault(str(order["merchant_id"]), str(order["merchant_type"]))
    return [(mid, mid, kind) for mid, kind in sorted(seen.items())]
