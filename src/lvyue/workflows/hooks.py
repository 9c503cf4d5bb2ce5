"""What the workflows plug into the service: the BTAS ship check and the periodic sweeps.

Registered explicitly by :func:`register`, which ``create_app`` and ``lvyue worker`` call
(nothing happens on import); the worker runs the sweeps once per period and every ship entry
point runs the ship check.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lvyue.engine.online import evaluate_order
from lvyue.model.rows import ShipmentIn
from lvyue.store import live
from lvyue.store.hooks import ShipRefused, register_ship_check, register_sweep
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.store.tables import Order
from lvyue.workflows import config, rule_sweeps
from lvyue.workflows.actions import after_sales, inspection, penalties, violations
from lvyue.workflows.actions.stored_facts import facts_for
from lvyue.workflows.machine import Refusal

# Orders paid this long ago or less are re-evaluated by the violations sweep.
VIOLATION_LOOKBACK = timedelta(days=45)
ENGINE_ACTOR = "system:engine-verdicts"
_log = logging.getLogger(__name__)


def inspection_ship_check(session: Session, order: Order, shipment: ShipmentIn) -> None:
    """BT-8, BT-10, BT-12: a required category ships only with its own unused passed code."""
    now = shipment.ship_time or datetime.now(UTC)
    try:
        inspection.bind_for_shipment(
            session,
            config.rules(),
            config.signer(),
            order,
            code=shipment.inspection_code,
            item_id=None,
            now=now,
        )
    except Refusal as refusal:
        raise ShipRefused(refusal.clause or "BT-12", refusal.message) from None


def after_sales_timeouts(session: Session, now: datetime) -> dict[str, Any]:
    """SF-9: the platform acts on expired after-sales limits and records the violations."""
    return {"acted": after_sales.sweep_timeouts(session, config.rules(), now)}


def inspection_expiry(session: Session, now: datetime) -> dict[str, Any]:
    """Failed inspections past their re-submission deadline are closed."""
    return {"closed": inspection.expire_failed(session, now)}


def violations_from_verdicts(session: Session, now: datetime) -> dict[str, Any]:
    """SF-10: every violated verdict of a merchant's duty (carrier's scans included) on recent
    orders becomes a violation once; the consumer's own timeouts never do.

    With the live worker running this is a reconciliation: the worker records (and withdraws)
    violations as verdicts change, so this records nothing when the live path is right
    (tested). ``missed_by_live`` counts what it had to record for orders the worker had
    already judged and had no reason to judge again (a live verdict, no mark dirty or due):
    a defect of the live path, logged. Without a live worker (``lvyue worker --no-live``) it
    is how violations are recorded. See docs/decisions/live-sweep-reconciles.md."""
    orders = session.scalars(select(Order).where(Order.pay_time >= now - VIOLATION_LOOKBACK))
    recorded, missed = 0, 0
    settled = _settled(session, now)
    for facts in facts_for(session, orders.all()):
        for verdict in evaluate_order(facts, now, config.rules()):
            if not verdict.merchant_violation:  # the consumer's own timeout is not one
                continue
            row = violations.record(
                session,
                merchant_id=verdict.merchant_id,
                order_id=verdict.order_id,
                aftersale_id=verdict.aftersale_id,
                check=verdict.check.value,
                clause=verdict.clauses,
                deadline=verdict.deadline,
                source=ENGINE_ACTOR,
                now=now,
                detail={"reason": verdict.reason, "duty": verdict.duty.value},
            )
            recorded += row is not None
            missed += row is not None and verdict.order_id in settled
    if missed:
        _log.warning("reconciliation: %d violations the live verdicts had missed", missed)
    return {"recorded": recorded, "missed_by_live": missed}


def _settled(session: Session, now: datetime) -> set[str]:
    """Orders the live worker has judged and has no reason to judge again as of ``now``."""
    judged = select(LiveVerdict.order_id).distinct()
    waiting = select(LiveMark.order_id).where(live.waiting(now))
    return set(session.scalars(judged.except_(waiting)))


def penalty_bans(session: Session, now: datetime) -> dict[str, Any]:
    """DR-6: products whose late orders pass the ban threshold get a ban_product measure."""
    return {"banned": penalties.impose_bans(session, config.rules(), now)}


def register() -> None:
    """Plug the workflows into the service's registries (idempotent)."""
    register_ship_check("btas-inspection")(inspection_ship_check)
    register_sweep("workflows.after_sales_timeouts", "minute")(after_sales_timeouts)
    register_sweep("workflows.inspection_resubmit_expiry", "hour")(inspection_expiry)
    register_sweep("workflows.violations_from_verdicts", "hour")(violations_from_verdicts)
    register_sweep("workflows.penalty_bans", "hour")(penalty_bans)
    register_sweep("workflows.indicator_measures", "day")(rule_sweeps.indicator_measures)
    register_sweep("workflows.claim_measures", "day")(rule_sweeps.claim_measures)
