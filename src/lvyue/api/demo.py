"""The demo database: a fresh SQLite file filled by the simulator, with demo accounts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from lvyue.model.enums import Check, ReportType
from lvyue.sim import simulate, write_facts
from lvyue.store import live, make_engine, make_session_factory, session_scope, upgrade
from lvyue.store.accounts import create_merchant
from lvyue.store.live_tables import LiveVerdict
from lvyue.store.seed import DEMO_AGENCY, IssuedAccount, seed_accounts
from lvyue.store.sweeps import run_due
from lvyue.store.tables import Merchant, Order
from lvyue.store.workflow_tables import Violation
from lvyue.store.write import BatchResult, Scope, write_rows
from lvyue.workflows.actions import inspection
from lvyue.workflows.actions.reports import file as file_report
from lvyue.workflows.reports import ReportDraft

Progress = Callable[[str, int, int], None]  # (table, rows done, rows total)
# The demo clock's "now" (model/clock.py): inside the simulated span and in the 2024 New Year
# (NY) and Valentine (VF) windows, so seasonal rules, at-risk orders and late ones all show.
DEMO_NOW = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)  # 2024-02-10 12:00 Beijing
_CONSUMER_ORDERS = 5
_SECOND_HAND = "二手商品"
_INGESTED = ("orders", "tracking", "after_sales")
_CHUNK = 2000
# Busy merchants moved into the showcase merchant's industry, so that its topic analysis
# (LD-6, peers of LG-7's 100 orders) has peers to compare with (sim/world.py). Ours.
DEMO_PEERS = 6
# Inspection orders (送检单) the second-hand merchant has sent to the demo agency: the first
# waits for the agency's receipt, … and the last is received, waiting for its result.
_SENT_FOR_INSPECTION = 3


@dataclass
class DemoResult:
    url: str
    facts_dir: Path  # the same marketplace as a facts directory, for the diagnosis endpoints
    loaded: dict[str, BatchResult] = field(default_factory=dict)
    accounts: list[IssuedAccount] = field(default_factory=list)
    now: datetime = DEMO_NOW  # the demo clock's anchor
    consumer_orders: list[str] = field(default_factory=list)
    pending_report: str | None = None
    second_hand: str | None = None  # the second-hand (BTAS) merchant shown, if any
    inspections: dict[str, list[str]] = field(default_factory=dict)  # state → waiting ids
    sweeps: dict[str, Any] = field(default_factory=dict)  # what the worker already produced
    at_risk: int = 0  # live verdicts at risk at the demo clock's now (store.live)
    violations: int = 0  # violations recorded by the sweeps and the live verdicts


def build_demo(
    directory: Path, *, orders: int, seed: int, progress: Progress | None = None
) -> DemoResult:
    """Replace ``directory/lvyue.db`` with a migrated database holding simulated facts and an
    account of every role (tokens in the result, shown once)."""
    from lvyue.workflows import config
    from lvyue.workflows import hooks as workflow_hooks
    from lvyue.workflows.live import drain

    workflow_hooks.register()  # the demo's orders ship through the same checks as the API's
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lvyue.db"
    for stale in (path, path.with_name("lvyue.db-wal"), path.with_name("lvyue.db-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    upgrade(url)
    tables = _facts(orders, seed)
    facts_dir = directory / "facts"
    # the same world (same seed, living at the demo clock's now) as a facts directory
    write_facts(
        facts_dir, orders, seed, fmt="parquet", progress=False, live_at=DEMO_NOW, peers=DEMO_PEERS
    )
    result = DemoResult(url=url, facts_dir=facts_dir.resolve())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    merchants = _merchants(tables)
    with session_scope(factory) as session:
        for merchant_id, name, kind in merchants:
            if session.get(Merchant, merchant_id) is None:
                create_merchant(session, merchant_id, name, kind)
    for table in _INGESTED:
        result.loaded[table] = _ingest(factory, table, tables.get(table, []), progress)
    for run in run_due(factory, now=DEMO_NOW, worker="demo"):  # the worker has already run
        result.sweeps[run.sweep] = run.error or run.result
    rules = config.rules()
    result.sweeps["live.verdicts"] = vars(drain(factory, rules, DEMO_NOW))  # at-risk items
    with session_scope(factory) as session:
        shown, result.second_hand = _shown_merchants(session, merchants, tables["orders"])
        result.accounts = seed_accounts(session, shown)
        result.consumer_orders = _give_consumer_orders(session, shown[0][0])
    result.pending_report = _file_report(factory, shown[0][0], result.consumer_orders)
    if result.second_hand is not None:
        result.inspections = _send_for_inspection(factory, result.second_hand, tables["orders"])
    drain(factory, rules, DEMO_NOW)  # the orders the steps above changed (report, consumer)
    with session_scope(factory) as session:
        result.at_risk = live.status_counts(session, None).get(live.AT_RISK, 0)
        result.violations = session.scalar(select(func.count()).select_from(Violation)) or 0
    engine.dispose()
    return result


def _ingest(
    factory: Any, table: str, rows: list[dict[str, Any]], progress: Progress | None
) -> BatchResult:
    """The simulated rows through the service's own batch path, in chunks."""
    total = BatchResult()
    for start in range(0, len(rows), _CHUNK):
        with session_scope(factory) as session:
            part = write_rows(
                session, table, rows[start : start + _CHUNK], Scope(), "demo", first_line=start + 1
            )
        for name in ("created", "updated", "unchanged"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.quarantined += part.quarantined
        if progress:
            progress(table, min(start + _CHUNK, len(rows)), len(rows))
    return total


def first_steps(result: DemoResult) -> list[tuple[str, str]]:
    """One line per role: who, and what to try first (printed by `lvyue demo`)."""
    mains = [a for a in result.accounts if a.key.endswith(".main")]
    main = mains[0]
    order = result.consumer_orders[0] if result.consumer_orders else "ORDER"
    steps = [
        ("operator", f"GET /reports?state=pending → POST /reports/{result.pending_report}/review"),
        (
            main.key,
            "GET /at-risk, GET /violations, GET /penalties, GET /workflows/orders/{id}/verdicts",
        ),
        (main.key.replace(".main", ".sub"), "same as .main (全部权限); .clerk gets 403 everywhere"),
        ("agency", _agency_step(result)),
        ("carrier", "POST /carriers/kuaidi100/push (a Kuaidi100 push of a demo waybill)"),
        ("consumer", f"POST /workflows/after-sales on its order {order}"),
        (
            "worker",
            f"already ran at the demo clock: {result.violations} violations recorded, "
            f"{result.at_risk} verdicts at risk (GET /at-risk)",
        ),
    ]
    for account in mains[1:]:
        what = "another merchant: sees none of the first one's data (tenancy)"
        if account.merchant_id == result.second_hand:
            what = "二手 merchant (BTAS): GET /btas/inspections → POST /btas/inspections"
        steps.insert(2, (account.key, what))
    if main.merchant_id == result.second_hand:
        steps[1] = (main.key, steps[1][1] + "; 二手 (BTAS): GET /btas/inspections")
    return steps


def _agency_step(result: DemoResult) -> str:
    sent, received = result.inspections.get("sent", []), result.inspections.get("received", [])
    if not sent and not received:
        return "GET /btas/inspections (no second-hand merchant in this demo)"
    parts = []
    if sent:
        parts.append(f"{len(sent)} sent to it: POST /btas/inspections/{sent[0]}/receive")
    if received:
        parts.append(f"{received[0]} received: POST …/result")
    return "; ".join(parts)


def _shown_merchants(
    session: Session, merchants: list[tuple[str, str, str]], orders: list[dict[str, Any]]
) -> tuple[list[tuple[str, str, str]], str | None]:
    """Accounts are made for the merchant with the most recorded violations, preferring one
    with late shipments (penalties) and orders at risk (so its pages are not empty), and for a
    second-hand (BTAS) merchant (another one when there is one); returns them and the
    second-hand merchant's id."""
    risky = Violation.merchant_id.in_(
        select(LiveVerdict.merchant_id).where(LiveVerdict.status == live.AT_RISK)
    )
    late = Violation.merchant_id.in_(
        select(Violation.merchant_id).where(Violation.check == Check.SHIP_DEADLINE.value)
    )
    counts = session.execute(
        select(Violation.merchant_id, func.count())
        .group_by(Violation.merchant_id)
        .order_by(and_(late, risky).desc(), late.desc(), func.count().desc(), Violation.merchant_id)
    ).first()
    first = next((m for m in merchants if counts and m[0] == counts[0]), merchants[0])
    second_hands = sorted(
        {str(o["merchant_id"]) for o in orders if str(o["category"]).startswith(_SECOND_HAND)},
        key=lambda m: (m == first[0], m),  # another merchant than the first, if there is one
    )
    second_hand = second_hands[0] if second_hands else None
    chosen = [first]
    chosen += [m for m in merchants if m[0] == second_hand and m != first][:1]
    chosen += [m for m in merchants if m not in chosen][: 2 - len(chosen)]
    return chosen, second_hand


def _give_consumer_orders(session: Session, merchant_id: str) -> list[str]:
    """The demo consumer (account ``consumer``) owns a few of the merchant's orders paid just
    before the demo clock, so it can request after-sales on them."""
    mine = session.scalars(
        select(Order)
        .where(Order.merchant_id == merchant_id, Order.pay_time <= DEMO_NOW)
        .order_by(Order.pay_time.desc())
        .limit(_CONSUMER_ORDERS)
    ).all()
    for order in mine:
        order.extra = {**(order.extra or {}), "consumer_id": "consumer"}
    return [o.order_id for o in mine]


def _send_for_inspection(
    factory: Any, merchant_id: str, orders: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """The second-hand merchant's latest items sent to the demo agency before the demo clock
    (前置质检, BT-3: not bound to an order), so the agency has work waiting: all but the last
    wait for its receipt, the last is received and waits for its result."""
    items = sorted(
        (o["pay_time"], str(o["product_id"] or o["order_id"]), str(o["category"]))
        for o in orders
        if o["merchant_id"] == merchant_id
        and str(o["category"]).startswith(_SECOND_HAND)
        and o["pay_time"] <= DEMO_NOW
    )
    chosen = list({item: (item, category) for _, item, category in reversed(items)}.values())
    merchant = inspection.Actor(f"{merchant_id}.main", merchant_id)
    agency = inspection.Actor("agency", agency=DEMO_AGENCY)
    waiting: dict[str, list[str]] = {}
    with session_scope(factory) as session:
        for n, (item, category) in enumerate(chosen[:_SENT_FOR_INSPECTION]):
            at = DEMO_NOW - timedelta(hours=6 * (n + 1))
            row = inspection.create(session, merchant, item_id=item, category=category,
                              agency=DEMO_AGENCY, order_id=None, now=at)  # fmt: skip
            inspection.send(session, row, merchant, at, carrier="zhongtong",
                      waybill=f"7500{n:08d}", packing_video=f"demo://packing/{item}")  # fmt: skip
            if n == _SENT_FOR_INSPECTION - 1:
                inspection.step(session, row, "receive", agency, at + timedelta(hours=2))
            waiting.setdefault(row.state, []).append(row.inspection_id)
    return waiting


def _file_report(factory: Any, merchant_id: str, order_ids: list[str]) -> str | None:
    """A report waiting for the operator's review (报备审核)."""
    if not order_ids:
        return None
    draft = ReportDraft(
        type=ReportType.CONSUMER_REQUESTED_DELAY,
        description="消费者要求延迟发货（演示数据 demo data）",
        order_ids=order_ids[:1],
    )
    with session_scope(factory) as session:
        row = file_report(
            session, draft, merchant_id=merchant_id, actor=f"{merchant_id}.main", now=DEMO_NOW
        )
        return row.report_id


def _facts(orders: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The simulator's tables as rows, for ingestion through the service's own batch path."""
    world = simulate(
        orders, seed, live_at=DEMO_NOW, peers=DEMO_PEERS
    )  # nothing is paid after the demo's now
    return {name: table.to_pylist() for name, table in world.items()}


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
