"""The rulebook's speed: loading, the online resolver, the compiled table and a DuckDB join.

``python -m benchmarks.run --only rulebook [--orders N]``. The join and the resolver answer
the same question (ship.deadline for N random orders); their ratio is the point.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

import duckdb
import pandas  # noqa: F401 - pyarrow imports it lazily on first use: keep that out of timings
import pyarrow as pa
import pyarrow.compute
from rich.console import Console
from rich.table import Table

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import epoch_seconds, parse_instant
from lvyue.rulebook import FLAGS, Clock, OrderContext, load_rulebook
from lvyue.rulebook.loader import load, shipped_dir
from lvyue.rulebook.rulebook import Rulebook

CATEGORIES = ["服饰内衣>鞋", "鲜花速递/花卉仿真/绿植园艺>生活鲜花", "二手商品>二手3C数码>手机"]


def _orders(n: int, rng: random.Random) -> list[OrderContext]:
    start = parse_instant("2023-01-01 00:00:00")
    out = []
    for _ in range(n):
        paid = start + timedelta(seconds=rng.randrange(0, 400 * 86400))
        out.append(
            OrderContext(
                merchant_type=rng.choice(list(MerchantType)),
                category=rng.choice(CATEGORIES),
                ship_mode=rng.choice(list(ShipMode)),
                flags=frozenset(f for f in FLAGS if rng.random() < 0.2),
                clocks={Clock.PAY_TIME: paid, Clock.PROMISED_SHIP_TIME: paid + timedelta(days=5)},
            )
        )
    return out


def _order_table(rb: Rulebook, orders: list[OrderContext]) -> pa.Table:
    data: dict[str, list[object]] = {
        "merchant_type": [o.merchant_type.value for o in orders],
        "category_key": [rb.category_key(o.category) for o in orders],
        "ship_mode": [o.ship_mode.value for o in orders],
        "pay_time": [epoch_seconds(o.clocks[Clock.PAY_TIME]) for o in orders],
    }
    for f in FLAGS:
        data[f"flag_{f}"] = [f in o.flags for o in orders]
    return pa.table(data)


JOIN = """
SELECT count(*) FROM orders o JOIN rules t
  ON t.parameter = 'ship.deadline' AND o.merchant_type = t.merchant_type
 AND o.category_key = t.category_key AND o.ship_mode = t.ship_mode
 AND {flags}
 AND (t.pay_time_from IS NULL OR o.pay_time >= t.pay_time_from)
 AND (t.pay_time_to IS NULL OR o.pay_time < t.pay_time_to)
"""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=50_000)
    args, _ = parser.parse_known_args(argv)
    n = args.orders
    rows: list[tuple[str, str]] = []

    t = time.perf_counter()
    rb = Rulebook(load([shipped_dir()]))
    rows.append(("load + validate shipped rulebook", f"{time.perf_counter() - t:.3f} s"))
    t = time.perf_counter()
    conflicts = rb.check_conflicts()
    rows.append((f"static check ({len(conflicts)} conflicts)", f"{time.perf_counter() - t:.3f} s"))
    t = time.perf_counter()
    table = rb.parameter_table()
    rows.append((f"compile table ({table.num_rows:,} rows)", f"{time.perf_counter() - t:.3f} s"))

    orders = _orders(n, random.Random(7))
    shipped = load_rulebook()
    t = time.perf_counter()
    answered = sum(shipped.resolve("ship.deadline", o) is not None for o in orders)
    resolver_s = time.perf_counter() - t
    rows.append((f"resolver: ship.deadline × {n:,}", f"{n / resolver_s:,.0f} orders/s"))

    con = duckdb.connect()
    con.register("rules", table)
    con.register("orders", _order_table(shipped, orders))
    flags = " AND ".join(f"o.flag_{f} = t.flag_{f}" for f in FLAGS)
    t = time.perf_counter()
    row = con.execute(JOIN.format(flags=flags)).fetchone()
    join_s = time.perf_counter() - t
    matched = int(row[0]) if row else -1
    rows.append((f"DuckDB join: ship.deadline × {n:,}", f"{n / join_s:,.0f} orders/s"))
    rows.append(("join speed-up over the resolver", f"{resolver_s / join_s:,.1f}×"))
    rows.append(("answers agree in count", f"{answered:,} = {matched:,}: {answered == matched}"))

    view = Table(title="rulebook")
    view.add_column("measure")
    view.add_column("result", justify="right")
    for name, value in rows:
        view.add_row(name, value)
    Console(width=160).print(view)
