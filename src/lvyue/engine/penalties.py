"""Late-shipment penalties (DR-6) from violated ``ship_deadline`` verdicts.

Rules, with the caps read from the rulebook (``penalty.late_ship.*``) per order:
- A violation happens at its deadline; its **day** is that Beijing calendar day and its
  **week** the ISO week (Monday 00:00 Beijing) containing it.
- **Points**: ``points_per_order`` each, granted in deadline order (then order_id) until the
  store reaches ``points_cap_day`` that day or ``points_cap_week`` that week. Points are kept
  in tenths (A0.1) and rounded half-up to a tenth.
- **Times late** (our reading of "同一订单最多扣除2次" and "同一订单延迟发货超过2次", which both
  count lateness of one order): each started 24 h past the deadline (shipped late: until
  shipping; not shipped: until as-of) is one 延迟发货 of that order.
- **Deposit**: ``deduction_per_order`` yuan per time late, at most ``deduction_max_per_order``
  times per order, and at most ``deduction_cap_day`` yuan per store per day.
- **Ban** (DR-6g "同一订单延迟发货超过2次，商品封禁"): the product is banned by the first of its
  orders late more than ``ban_after_late_orders`` times (more than 48 h); orders without
  ``product_id`` name no product and ban none. docs/decisions/engine-dr6g-same-order.md
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lvyue.engine.batch import Backend, Compiles, evaluate_file
from lvyue.engine.online import Resolves, contexts
from lvyue.engine.order import OrderFacts, iter_order_facts
from lvyue.engine.verdict import VERDICT_SCHEMA, join_clauses
from lvyue.facts import Facts, load_orders
from lvyue.model.enums import Check, VerdictStatus
from lvyue.model.time import to_beijing

PENALTY_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("merchant_id", pa.string()),
        ("product_id", pa.string()),
        ("day", pa.string()),
        ("week", pa.string()),
        ("points", pa.float64()),
        ("deduction_yuan", pa.float64()),
        ("product_banned", pa.bool_()),
        ("capped", pa.string()),
        ("clauses", pa.string()),
    ]
)
_PARAMS = ("points_per_order", "points_cap_day", "points_cap_week", "deduction_per_order",
           "deduction_max_per_order", "deduction_cap_day", "ban_after_late_orders")  # fmt: skip
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Late:
    """A violated ship_deadline verdict with the order it belongs to."""

    facts: OrderFacts
    product_id: str | None
    deadline: datetime
    shipped: datetime | None


def penalties(lates: list[Late], as_of: datetime, rulebook: Resolves) -> pa.Table:
    """One row per late order with its points, deduction and ban (PENALTY_SCHEMA)."""
    rows = []
    points_day: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    points_week: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    yuan_day: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    banned_products: set[str] = set()
    for late in sorted(lates, key=lambda x: (x.deadline, x.facts.order.order_id)):
        p, clauses = _parameters(late, as_of, rulebook)
        local = to_beijing(late.deadline)
        m = late.facts.order.merchant_id
        day = (m, local.date().isoformat())
        iso = local.isocalendar()
        week = (m, f"{iso.year}-W{iso.week:02d}")
        capped = []
        points = _round(p["points_per_order"])
        room = min(p["points_cap_day"] - points_day[day], p["points_cap_week"] - points_week[week])
        if points > room:
            points = max(room, Decimal(0))
            capped.append("points")
        points_day[day] += points
        points_week[week] += points
        lateness = ((late.shipped or as_of) - late.deadline).total_seconds()
        times_late = max(1, math.ceil(lateness / 86400))
        yuan = p["deduction_per_order"] * min(times_late, int(p["deduction_max_per_order"]))
        if yuan > p["deduction_cap_day"] - yuan_day[day]:
            yuan = max(p["deduction_cap_day"] - yuan_day[day], Decimal(0))
            capped.append("yuan")
        yuan_day[day] += yuan
        banned = bool(late.product_id) and late.product_id not in banned_products
        banned = banned and times_late > int(p["ban_after_late_orders"])
        if banned and late.product_id:
            banned_products.add(late.product_id)
        rows.append({
            "order_id": late.facts.order.order_id, "merchant_id": m, "product_id": late.product_id,
            "day": day[1], "week": week[1], "points": float(points), "deduction_yuan": float(yuan),
            "product_banned": banned, "capped": ";".join(capped), "clauses": clauses,
        })  # fmt: skip
    return pa.Table.from_pylist(rows, PENALTY_SCHEMA)


def _parameters(late: Late, as_of: datetime, rb: Resolves) -> tuple[dict[str, Decimal], str]:
    ctx = contexts(late.facts, as_of)[""]
    values: dict[str, Decimal] = {}
    ids: list[str] = []
    for name in _PARAMS:
        answer = rb.resolve(f"penalty.late_ship.{name}", ctx)
        if answer is None or isinstance(answer.value, bool) or not isinstance(answer.value, float):
            raise LookupError(f"the rulebook sets no penalty.late_ship.{name} for this order")
        values[name] = Decimal(str(answer.value))
        ids.append(answer.cited)
    return values, join_clauses(*ids)


def _round(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, rounding=ROUND_HALF_UP)


def late_orders(facts: Facts, verdicts: pa.Table) -> list[Late]:
    """The violated ship_deadline verdicts of ``verdicts`` with their orders' facts."""
    mask = pc.and_(
        pc.equal(verdicts["check"], Check.SHIP_DEADLINE.value),
        pc.equal(verdicts["status"], VerdictStatus.VIOLATED.value),
    )
    late = {r["order_id"]: r for r in verdicts.filter(mask).to_pylist()}
    products: dict[str, str | None] = {}
    if "product_id" in facts.orders.column_names:
        rows = facts.orders.select(["order_id", "product_id"]).to_pylist()
        products = {r["order_id"]: _text(r["product_id"]) for r in rows if r["order_id"] in late}
    return [
        Late(of, products.get(of.order.order_id), late[of.order.order_id]["deadline"],
             late[of.order.order_id]["done_at"])
        for of in iter_order_facts(facts, set(late))
    ]  # fmt: skip


def late_orders_of(
    facts_dir: Path, as_of: datetime, rulebook: Compiles, *, backend: Backend = "duckdb"
) -> tuple[list[Late], Counter[tuple[str, str]]]:
    """The late orders of a facts directory, out of core: every verdict is evaluated by the
    batch path into a temporary file, and only the late orders' facts are then loaded.
    Also returns the verdict counts per (check, status)."""
    with tempfile.TemporaryDirectory(prefix="lvyue-penalties-") as tmp:
        out = Path(tmp) / "verdicts.parquet"
        run = evaluate_file(facts_dir, as_of, rulebook, out, backend=backend)
        return late_orders_in(facts_dir, out), run.counts


def late_orders_in(facts_dir: Path, verdicts_file: Path) -> list[Late]:
    """The late orders of a verdicts file (Parquet) with their facts, read out of core."""
    late = pq.read_table(
        verdicts_file,
        filters=[
            ("check", "==", Check.SHIP_DEADLINE.value),
            ("status", "==", VerdictStatus.VIOLATED.value),
        ],
    ).cast(VERDICT_SCHEMA)
    facts = load_orders(facts_dir, late["order_id"].to_pylist())
    return late_orders(facts, late)


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
