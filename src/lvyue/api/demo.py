"""The demo database: a fresh SQLite file filled by the simulator, with demo accounts."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from lvyue.model import parse_instant
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
    source: str  # "simulator" or "built-in sample"
    loaded: dict[str, BatchResult] = field(default_factory=dict)
    accounts: list[IssuedAccount] = field(default_factory=list)


def build_demo(
    directory: Path, *, orders: int, seed: int, progress: Progress | None = None
) -> DemoResult:
    """Replace ``directory/lvyue.db`` with a migrated database holding simulated facts and an
    account of every role (tokens in the result, shown once)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lvyue.db"
    for stale in (path, path.with_name("lvyue.db-wal"), path.with_name("lvyue.db-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    upgrade(url)
    tables, source = _facts(orders, seed)
    result = DemoResult(url=url, source=source)
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


def _facts(orders: int, seed: int) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """The simulator's tables as rows, or a built-in sample until the simulator lands."""
    if importlib.util.find_spec("lvyue.sim") is not None:
        sim = importlib.import_module("lvyue.sim")
        if hasattr(sim, "simulate"):
            tables = sim.simulate(orders, seed)
            return {name: table.to_pylist() for name, table in tables.items()}, "simulator"
    return _sample(), "built-in sample"


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


def _sample() -> dict[str, list[dict[str, Any]]]:
    """A handful of orders, two merchants, a few scans and one after-sales request."""
    paid = parse_instant("2024-02-09 10:00:00")
    orders, tracking = [], []
    for i in range(12):
        merchant = "m1" if i % 2 == 0 else "m2"
        order: dict[str, Any] = {
            "order_id": f"demo-{i:04d}",
            "merchant_id": merchant,
            "merchant_type": "domestic",
            "category": "鲜花速递/花卉仿真/绿植园艺>生活鲜花" if i % 3 == 0 else "服饰内衣>女装",
            "ship_mode": "spot",
            "pay_time": paid + timedelta(hours=i),
        }
        if i % 4 != 3:
            waybill = f"ZT{7000000 + i}"
            order |= {
                "ship_time": paid + timedelta(hours=i + 20),
                "carrier": "zhongtong",
                "waybill": waybill,
            }
            tracking.append(
                {
                    "carrier": "zhongtong",
                    "waybill": waybill,
                    "kind": "pickup",
                    "time": paid + timedelta(hours=i + 26),
                }
            )
        orders.append(order)
    after_sales = [
        {
            "aftersale_id": "as-0001",
            "order_id": "demo-0000",
            "type": "refund_only",
            "created_at": paid + timedelta(days=2),
        }
    ]
    merchants = [
        {"merchant_id": "m1", "name": "一号花店", "merchant_type": "domestic"},
        {"merchant_id": "m2", "name": "二号服饰", "merchant_type": "domestic"},
    ]
    return {
        "orders": orders,
        "tracking": tracking,
        "after_sales": after_sales,
        "merchants": merchants,
    }
