"""How an order's facts become the clocks the rulebook reads — the engine's few judgement calls.

Both paths follow these definitions: the online path through the Python functions, the batch
path through the Ibis expressions in :mod:`lvyue.engine.batch`, which cite the same names.

- **As of**: a fact dated after ``as_of`` has not happened yet (reproducible verdicts).
- **Pickup** (SF-6): the first pickup scan; a scan before the ship time counts as done at the
  ship time (carriers sometimes scan before the merchant uploads the waybill).
- **Scans before payment** (issue 12 item 2a, lvyue's reading): a waybill whose *first* scan of
  a kind (pickup, hub, warehouse-in) is dated before the order's payment has none of that kind
  for the order — a parcel scanned before the order existed is not its parcel (a back-dated
  scan or a reused waybill), and SF-6 asks for the waybill's first pickup record
  (第一条物流揽件信息) within the limit after shipping. ``after_payment``.
- **First hub** (SF-7): the first sorting-centre arrival or departure, counted from the pickup
  clock above (never earlier than it).
- **Refund before shipping** (issue 10 item 0): a refund request (仅退款 or 退货退款) made while
  the order was unshipped asks to cancel it. Granted, and made by the ship deadline, it closes
  the ship duty; made before the shipment, it closes pickup and first hub. Still open (not
  refunded, not handled by the merchant) it suspends a breach: ``pending``, never ``violated``.
  docs/decisions/engine-refund-before-deadline.md.
- **After-sales windows** (SF-9): "before the merchant ships, daily rules". The rulebook scopes
  SF-9 on the flag ``shipped_before_aftersale``, true when the order's ship time is at or
  before the request time (both as of the evaluation instant).
- **Agreement** (SF-9b): the consumer's return clock starts when the merchant *agreed*
  (``merchant_decision = agreed``), never at a rejection. A row without a decision (facts
  written before the column existed) counts as agreed only once the consumer uploaded a
  return, which the platform allows only after agreement.
- **Platform intervention** (VF-8a): an intervention recorded on a request counts from its
  ``intervened_at`` (as of); the return shipping is the merchant's when any of the order's
  interventions says ``return_shipping_merchant`` (``SHIPPING_INTERVENTION``).
- **Agreements and activities** (SF-1, SF-2): the flag ``ship_time_agreed`` is true when the
  order carries ``agreed_ship_time``, ``festival_activity`` when its ``activity`` is not
  empty; both are read off the facts, never columns of their own (``derived_flags``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

HUB_KINDS = ("hub_arrival", "hub_departure")
RETURN_TYPES = ("return_refund", "exchange")  # the requests where goods travel back
AGREED, REJECTED = "agreed", "rejected"  # after_sales.merchant_decision
SHIPPING_INTERVENTION = "return_shipping_merchant"  # after_sales.intervention (VF-8a)
VF6_DAYS = 30  # VF-6: window orders settle 30 days after receipt unless a penalty extends it
REFUND_TYPES = ("refund_only", "return_refund")  # the requests that give the money back
SHIPPED_BEFORE_AFTERSALE = "shipped_before_aftersale"  # the SF-9 flag (rulebook FLAGS)


def seen(moment: datetime | None, as_of: datetime) -> datetime | None:
    """The fact if it had happened by ``as_of``, else None."""
    return moment if moment is not None and moment <= as_of else None


def first(moments: Iterable[datetime]) -> datetime | None:
    return min(moments, default=None)


def after_payment(first_scan: datetime | None, paid: datetime | None) -> datetime | None:
    """The waybill's first scan of a kind, if dated at or after the order's payment."""
    if first_scan is None or paid is None or first_scan < paid:
        return None
    return first_scan


def pickup_clock(ship: datetime | None, first_pickup: datetime | None) -> datetime | None:
    """SF-6: first pickup scan, never earlier than the ship time; None until shipped."""
    if ship is None or first_pickup is None:
        return None
    return max(ship, first_pickup)


def hub_clock(pickup: datetime | None, first_hub: datetime | None) -> datetime | None:
    """SF-7: first hub scan, never earlier than the pickup clock."""
    if pickup is None or first_hub is None:
        return None
    return max(pickup, first_hub)


def shipped_before(ship: datetime | None, created: datetime) -> bool:
    """SF-9: the order had shipped when the after-sales request was made."""
    return ship is not None and ship <= created


def agreed_at(
    handled: datetime | None, decision: str | None, return_shipped: datetime | None
) -> datetime | None:
    """SF-9b: the instant the merchant agreed (all three as of the evaluation instant)."""
    if handled is None or decision == REJECTED:
        return None
    if decision == AGREED or return_shipped is not None:
        return handled
    return None


def cancels_shipment(kind: str, created: datetime, ship: datetime | None) -> bool:
    """A refund request made while the order was unshipped: the consumer cancels it."""
    return kind in REFUND_TYPES and (ship is None or created < ship)


SHIP_TIME_AGREED, FESTIVAL_ACTIVITY = "ship_time_agreed", "festival_activity"


def derived_flags(agreed_ship_time: datetime | None, activity: str | None) -> frozenset[str]:
    """SF-1 / SF-2 scope flags of an order, from its facts."""
    out = set()
    if agreed_ship_time is not None:
        out.add(SHIP_TIME_AGREED)
    if activity:
        out.add(FESTIVAL_ACTIVITY)
    return frozenset(out)


def mode_ship_clock(ship: datetime | None, paid: datetime) -> datetime:
    """VF-5 (read on ship_time): the mode rules see the ship time, or until the order ships
    its pay time, the earliest it can ship (a rule in force from then on binds its shipment)."""
    return ship if ship is not None else paid


OVERSEAS_CONSOLIDATION, BBC_BONDED = "overseas_consolidation", "bbc_bonded"
WAREHOUSE_IN = "warehouse_in"


def track_record(
    mode: str | None, first_pickup: datetime | None, first_warehouse_in: datetime | None
) -> datetime | None:
    """SF-5: the record that meets a cross-border presale promise — the consolidation
    warehouse-in (海外集货), the carrier's pickup (BBC保税); mode unrecorded: either, first."""
    if mode == OVERSEAS_CONSOLIDATION:
        return first_warehouse_in
    if mode == BBC_BONDED:
        return first_pickup
    return first(m for m in (first_pickup, first_warehouse_in) if m is not None)


def reaches(receipt: datetime | None, start: datetime) -> bool:
    """An extended settlement starting at ``start`` reaches an order of its merchant not yet
    settled under VF-6 then (no receipt, or receipt + 30 d after the start). The batch
    (``settlement_penalties``) and the service (``workflows.actions.stored_facts``) ask this."""
    return receipt is None or receipt + timedelta(days=VF6_DAYS) > start


def penalty_date(receipt: datetime | None, days: float) -> datetime | None:
    """VF-6a's date: ``days`` (MS-8, operator default) after receipt; unknown until received."""
    return None if receipt is None else receipt + timedelta(days=days)
