"""The online path: one order evaluated in process (service, ``explain``), plain Python over
the rulebook's resolver. The batch path computes the same verdicts over a parameter table;
the differential tests prove they agree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from lvyue.engine import clocks as ck
from lvyue.engine import verdict as v
from lvyue.engine.order import AfterSale, OrderFacts
from lvyue.engine.verdict import Verdict, join_clauses
from lvyue.model.enums import Check, VerdictStatus
from lvyue.rulebook.context import Clock, OrderContext
from lvyue.rulebook.resolver import Answer
from lvyue.rulebook.values import Duration, Instant

DEFAULT_HORIZON = timedelta(hours=12)


class Resolves(Protocol):
    """What the online path needs of a rulebook."""

    def resolve(self, parameter: str, ctx: OrderContext) -> Answer | None: ...


@dataclass(frozen=True)
class _Order:
    """One order as of the evaluation instant, with its clocks."""

    facts: OrderFacts
    as_of: datetime
    horizon: timedelta
    ctx: OrderContext
    anchors: Mapping[Clock, datetime]

    def verdict(
        self,
        check: Check,
        status: VerdictStatus,
        reason: str,
        *,
        deadline: datetime | None = None,
        done_at: datetime | None = None,
        clauses: str = "",
        aftersale_id: str = "",
    ) -> Verdict:
        return Verdict(
            order_id=self.facts.order_id,
            aftersale_id=aftersale_id,
            merchant_id=self.facts.merchant_id,
            check=check,
            status=status,
            deadline=deadline,
            done_at=done_at,
            clauses=clauses,
            reason=reason,
        )


def evaluate_order(
    facts: OrderFacts,
    as_of: datetime,
    rulebook: Resolves,
    horizon: timedelta = DEFAULT_HORIZON,
) -> list[Verdict]:
    """Every verdict on one order and its after-sales requests, as of ``as_of``."""
    order = _prepare(facts, as_of, horizon)
    if order is None:
        return []
    out: list[Verdict | None] = [
        _ship_deadline(order, rulebook),
        _ship_mode(order, rulebook),
        _pickup(order, rulebook),
        _first_hub(order, rulebook),
        _inspection(order, rulebook),
        _settlement(order, rulebook),
        _presale_promise(order, rulebook),
    ]
    for request in facts.after_sales:
        out.extend(_after_sale(order, request, rulebook))
    return sorted((x for x in out if x is not None), key=lambda x: (x.aftersale_id, x.check))


def order_clocks(facts: OrderFacts, as_of: datetime) -> dict[Clock, datetime]:
    """The order's clocks as of ``as_of`` (see :mod:`lvyue.engine.clocks`)."""
    ship = ck.seen(facts.ship_time, as_of)
    events = [e for e in facts.tracking if e.time <= as_of]
    pickup = ck.pickup_clock(ship, ck.first(e.time for e in events if e.kind == "pickup"))
    raw = {
        Clock.PAY_TIME: ck.seen(facts.pay_time, as_of),
        Clock.PROMISED_SHIP_TIME: facts.promised_ship_time,  # a promise, known at payment
        Clock.SHIP_TIME: ship,
        Clock.PICKUP_TIME: pickup,
        Clock.RECEIPT_TIME: ck.seen(facts.confirmed_receipt_time, as_of),
        Clock.AGREED_SHIP_TIME: facts.agreed_ship_time,  # agreements, known when made
        Clock.ACTIVITY_SHIP_DEADLINE: facts.activity_ship_deadline,
        Clock.PENALTY_SETTLEMENT_TIME: facts.penalty_settlement_time,  # set by the penalty
    }
    return {clock: moment for clock, moment in raw.items() if moment is not None}


def first_hub_time(facts: OrderFacts, as_of: datetime) -> datetime | None:
    hubs = (e.time for e in facts.tracking if e.time <= as_of and e.kind in ck.HUB_KINDS)
    return ck.first(hubs)


def _prepare(facts: OrderFacts, as_of: datetime, horizon: timedelta) -> _Order | None:
    clocks = order_clocks(facts, as_of)
    if Clock.PAY_TIME not in clocks:
        return None  # not paid yet as of the evaluation instant
    flags = facts.flags | ck.derived_flags(facts.agreed_ship_time, facts.activity)
    ctx = OrderContext(facts.merchant_type, facts.category, facts.ship_mode, flags, clocks)
    return _Order(facts, as_of, horizon, ctx, clocks)


def deadline_from(answer: Answer, anchors: Mapping[Clock, datetime]) -> datetime | None:
    if isinstance(answer.value, Instant):
        return answer.value.at
    if isinstance(answer.value, Duration):
        anchor = anchors.get(answer.value.anchor)
        return None if anchor is None else anchor + timedelta(seconds=answer.value.seconds)
    return None


def _timed(
    order: _Order,
    check: Check,
    deadline: datetime,
    done: datetime | None,
    clauses: str,
    aftersale_id: str = "",
) -> Verdict:
    """ok / violated / pending / at_risk of a deadline and the instant it was met (if)."""
    if done is not None:
        status, reason = (
            (VerdictStatus.OK, v.OK) if done <= deadline else (VerdictStatus.VIOLATED, v.LATE)
        )
    elif deadline <= order.as_of:
        status, reason = VerdictStatus.VIOLATED, v.MISSED
    elif deadline - order.as_of <= order.horizon:
        status, reason = VerdictStatus.AT_RISK, v.WAITING
    else:
        status, reason = VerdictStatus.PENDING, v.WAITING
    return order.verdict(
        check,
        status,
        reason,
        deadline=deadline,
        done_at=done,
        clauses=clauses,
        aftersale_id=aftersale_id,
    )


def _approved_reports(order: _Order) -> list[datetime | None]:
    """new_deadline (or None for a plain waiver) of each approved report on this order."""
    return [
        r.new_deadline
        for r in order.facts.reports
        if r.status == "approved" and r.merchant_id == order.facts.merchant_id
    ]


def _waived(order: _Order, verdict: Verdict) -> Verdict:
    """SF-8: an approved report without a new deadline waives the check."""
    if None not in _approved_reports(order):
        return verdict
    clauses = join_clauses(verdict.clauses, v.REPORT_CLAUSE)
    return replace(verdict, status=VerdictStatus.EXEMPTED, reason=v.WAIVED, clauses=clauses)


def _ship_deadline(order: _Order, rb: Resolves) -> Verdict | None:
    answer = rb.resolve("ship.deadline", order.ctx)
    deadline = deadline_from(answer, order.anchors) if answer else None
    if answer is None or deadline is None:
        return None
    clauses = answer.cited
    new_deadlines = [d for d in _approved_reports(order) if d is not None]
    if new_deadlines:  # SF-8: an approved report's new deadline replaces the rule's
        deadline = max(new_deadlines)
        clauses = join_clauses(clauses, v.REPORT_CLAUSE)
    done = order.anchors.get(Clock.SHIP_TIME)
    met_by = rb.resolve("ship.met_by_track_record", order.ctx)
    if met_by is not None and met_by.value is True:  # SF-5: a record in the track meets it
        done = _track_record(order)
        clauses = join_clauses(clauses, met_by.cited)
    verdict = _waived(order, _timed(order, Check.SHIP_DEADLINE, deadline, done, clauses))
    return _cancelled(order, verdict, deadline)


def _track_record(order: _Order) -> datetime | None:
    seen = [e for e in order.facts.tracking if e.time <= order.as_of]
    pickup = ck.first(e.time for e in seen if e.kind == "pickup")
    warehouse_in = ck.first(e.time for e in seen if e.kind == ck.WAREHOUSE_IN)
    return ck.track_record(order.facts.cross_border_mode, pickup, warehouse_in)


def _cancellations(order: _Order) -> tuple[datetime | None, datetime | None]:
    """Earliest request time of the refund requests that cancel the order (clocks): granted
    (refunded by as-of), and still open (neither refunded nor handled by as-of)."""
    as_of, ship = order.as_of, order.anchors.get(Clock.SHIP_TIME)
    granted: list[datetime] = []
    still_open: list[datetime] = []
    for r in order.facts.after_sales:
        created = ck.seen(r.created_at, as_of)
        if created is None or not ck.cancels_shipment(r.type, created, ship):
            continue
        if ck.seen(r.refunded_at, as_of) is not None:
            granted.append(created)
        elif ck.seen(r.merchant_handled_at, as_of) is None:
            still_open.append(created)
    return ck.first(granted), ck.first(still_open)


def _cancelled(order: _Order, verdict: Verdict, by: datetime | None) -> Verdict:
    """Item 0: a refund requested before shipping (by ``by``, the ship deadline, if given)
    closes the duty when granted and suspends a breach while open."""
    if verdict.status in (VerdictStatus.OK, VerdictStatus.EXEMPTED):
        return verdict
    granted, still_open = _cancellations(order)
    if granted is not None and (by is None or granted <= by):
        return replace(verdict, status=VerdictStatus.EXEMPTED, reason=v.REFUNDED)
    if (
        verdict.status is VerdictStatus.VIOLATED
        and still_open is not None
        and (by is None or still_open <= by)
    ):
        return replace(verdict, status=VerdictStatus.PENDING, reason=v.REFUND_OPEN)
    return verdict


def _ship_mode(order: _Order, rb: Resolves) -> Verdict | None:
    """VF-3/4: the mode and the delayed-shipping tool must be allowed when paid; VF-5: the
    mode when shipped (clocks.mode_ship_clock)."""
    paid = order.anchors[Clock.PAY_TIME]
    ship = ck.mode_ship_clock(order.anchors.get(Clock.SHIP_TIME), paid)
    ctx = replace(order.ctx, clocks={**order.ctx.clocks, Clock.SHIP_TIME: ship})
    modes = rb.resolve("ship.modes_allowed", ctx)
    tool = rb.resolve("ship.delayed_tool_allowed", ctx) if order.facts.delayed_shipping else None
    if modes is None and tool is None:
        return None
    allowed = modes.value if modes is not None else None
    if (
        modes is not None
        and isinstance(allowed, frozenset)
        and order.facts.ship_mode not in allowed
    ):
        return order.verdict(
            Check.SHIP_MODE, VerdictStatus.VIOLATED, v.MODE_BANNED,
            done_at=paid, clauses=modes.cited,
        )  # fmt: skip
    if tool is not None and tool.value is False:
        return order.verdict(
            Check.SHIP_MODE, VerdictStatus.VIOLATED, v.TOOL_BANNED,
            done_at=paid, clauses=tool.cited,
        )  # fmt: skip
    clauses = join_clauses(modes.cited if modes else None, tool.cited if tool else None)
    return order.verdict(
        Check.SHIP_MODE, VerdictStatus.OK, v.MODE_OK, done_at=paid, clauses=clauses
    )


def _limit(order: _Order, rb: Resolves, parameter: str, check: Check) -> Verdict | None:
    answer = rb.resolve(parameter, order.ctx)
    deadline = deadline_from(answer, order.anchors) if answer else None
    if answer is None or deadline is None:
        return None
    done = _done_for(order, check)
    verdict = _waived(order, _timed(order, check, deadline, done, answer.cited))
    return _cancelled(order, verdict, None)


def _done_for(order: _Order, check: Check) -> datetime | None:
    if check is Check.PICKUP:
        return order.anchors.get(Clock.PICKUP_TIME)
    hub = first_hub_time(order.facts, order.as_of)
    return ck.hub_clock(order.anchors.get(Clock.PICKUP_TIME), hub)


def _pickup(order: _Order, rb: Resolves) -> Verdict | None:
    """SF-6 / DR-2: shipped → first pickup scan."""
    if Clock.SHIP_TIME not in order.anchors:
        return None
    return _limit(order, rb, "pickup.limit", Check.PICKUP)


def _first_hub(order: _Order, rb: Resolves) -> Verdict | None:
    """SF-7 / DR-2: first pickup scan → first sorting centre."""
    if Clock.PICKUP_TIME not in order.anchors:
        return None
    return _limit(order, rb, "first_hub.limit", Check.FIRST_HUB)


def _inspection(order: _Order, rb: Resolves) -> Verdict | None:
    """BT-8, BT-10, BT-12: a required category ships only with its own passed code."""
    ship = order.anchors.get(Clock.SHIP_TIME)
    answer = rb.resolve("inspection.required", order.ctx) if ship else None
    if answer is None or answer.value is not True:
        return None
    reason = _code_problem(order)
    status = VerdictStatus.OK if reason == v.PASSED else VerdictStatus.VIOLATED
    return order.verdict(Check.INSPECTION, status, reason, done_at=ship, clauses=answer.cited)


def _code_problem(order: _Order) -> str:
    facts, as_of = order.facts, order.as_of
    found = facts.inspection
    if facts.inspection_code is None:
        return v.NO_CODE
    if (
        found is None
        or found.merchant_id != facts.merchant_id
        or (found.inspected_at is not None and found.inspected_at > as_of)
    ):
        return v.UNKNOWN_CODE
    if found.result != "pass":
        return v.FAILED_CODE
    ship = order.anchors[Clock.SHIP_TIME]
    if found.inspected_at is not None and ship < found.inspected_at:
        return v.SHIPPED_BEFORE_PASS  # BT-12 "禁止商家未通过Btas质检情况自行向消费者发货"
    shipped = [(t, oid) for t, oid in facts.code_shipments if t <= as_of]
    if shipped and min(shipped)[1] != facts.order_id:
        return v.REUSED_CODE
    return v.PASSED


def _settlement(order: _Order, rb: Resolves) -> Verdict | None:
    """VF-6 / DR-5: settles ``settlement.delay`` after confirmed receipt."""
    if Clock.RECEIPT_TIME not in order.anchors:
        return None
    answer = rb.resolve("settlement.delay", order.ctx)
    deadline = deadline_from(answer, order.anchors) if answer else None
    if answer is None or deadline is None:
        return None
    return order.verdict(
        Check.SETTLEMENT, VerdictStatus.SCHEDULED, v.SCHEDULED,
        deadline=deadline, clauses=answer.cited,
    )  # fmt: skip


PROMISE_MODES = ("presale", "deposit_presale", "step")  # ship by a promised time (DR-1b, SF-5)


def _presale_promise(order: _Order, rb: Resolves) -> Verdict | None:
    """SF-5a/5b, DR-1c/1d: the promised ship time lies min–max (2–15 d) after payment."""
    promised = order.anchors.get(Clock.PROMISED_SHIP_TIME)
    if order.facts.ship_mode.value not in PROMISE_MODES or promised is None:
        return None
    low, high = rb.resolve("ship.presale_min", order.ctx), rb.resolve("ship.presale_max", order.ctx)
    earliest = deadline_from(low, order.anchors) if low else None
    latest = deadline_from(high, order.anchors) if high else None
    if low is None or high is None or earliest is None or latest is None:
        return None
    if promised < earliest:
        status, reason, clauses = VerdictStatus.VIOLATED, v.PROMISE_EARLY, low.cited
    elif promised > latest:
        status, reason, clauses = VerdictStatus.VIOLATED, v.PROMISE_LATE, high.cited
    else:
        status, reason, clauses = (
            VerdictStatus.OK,
            v.PROMISE_OK,
            join_clauses(low.cited, high.cited),
        )
    return order.verdict(
        Check.PRESALE_PROMISE, status, reason, deadline=latest, done_at=promised, clauses=clauses
    )


# (check, parameter, the fact that starts it, the fact that meets it, return requests only)
AFTERSALE_CHECKS: tuple[tuple[Check, str, str, str, bool], ...] = (
    (Check.AFTERSALE_MERCHANT_CONFIRM, "aftersale.merchant_confirm.limit",
     "created_at", "merchant_handled_at", False),
    (Check.AFTERSALE_CONSUMER_RETURN, "aftersale.consumer_return.limit",
     "agreed_at", "return_shipped_at", True),
    (Check.AFTERSALE_MERCHANT_RECEIVE, "aftersale.merchant_receive.limit",
     "return_shipped_at", "merchant_received_at", True),
    (Check.AFTERSALE_REFUND, "aftersale.refund.limit",
     "return_signed_at", "refunded_at", True),
)  # fmt: skip


_STEPS = ("created_at", "merchant_handled_at", "return_shipped_at", "merchant_received_at",
          "return_signed_at", "refunded_at")  # fmt: skip


def request_moments(request: AfterSale, as_of: datetime) -> dict[str, datetime | None]:
    """The request's step instants as of ``as_of``, and ``agreed_at`` (clocks.agreed_at)."""
    out = {name: ck.seen(getattr(request, name), as_of) for name in _STEPS}
    out["agreed_at"] = ck.agreed_at(
        out["merchant_handled_at"], request.merchant_decision, out["return_shipped_at"]
    )
    return out


def _aftersale_ctx(order: _Order, request: AfterSale, created: datetime) -> OrderContext:
    """The request's context: its clocks, and the SF-9 flag when the order had shipped."""
    seen = request_moments(request, order.as_of)
    moments = {
        Clock.AFTERSALE_CREATED: created,
        Clock.AFTERSALE_AGREED: seen["agreed_at"],
        Clock.RETURN_SHIPPED: seen["return_shipped_at"],
        Clock.RETURN_SIGNED: seen["return_signed_at"],
    }
    anchors = {**order.anchors, **{c: m for c, m in moments.items() if m is not None}}
    flags = order.ctx.flags
    if ck.shipped_before(order.anchors.get(Clock.SHIP_TIME), created):
        flags = flags | {ck.SHIPPED_BEFORE_AFTERSALE}
    return replace(order.ctx, flags=flags, clocks=anchors)


def contexts(facts: OrderFacts, as_of: datetime) -> dict[str, OrderContext]:
    """The contexts the checks resolve with: "" for the order, else per after-sales id."""
    order = _prepare(facts, as_of, DEFAULT_HORIZON)
    if order is None:
        return {}
    out = {"": order.ctx}
    for request in facts.after_sales:
        created = ck.seen(request.created_at, as_of)
        if created is not None:
            out[request.aftersale_id] = _aftersale_ctx(order, request, created)
    return out


def _after_sale(order: _Order, request: AfterSale, rb: Resolves) -> list[Verdict | None]:
    """SF-9 a–d / DR-3, each counted from its own fact of the request."""
    as_of = order.as_of
    created = ck.seen(request.created_at, as_of)
    if created is None:
        return []
    ctx = _aftersale_ctx(order, request, created)
    seen = request_moments(request, as_of)
    out: list[Verdict | None] = []
    for check, parameter, start, done, returns_only in AFTERSALE_CHECKS:
        if returns_only and request.type not in ck.RETURN_TYPES:
            continue
        if seen[start] is None:
            continue
        answer = rb.resolve(parameter, ctx)
        deadline = deadline_from(answer, ctx.clocks) if answer else None
        if answer is None or deadline is None:
            continue
        met = seen[done]
        out.append(_timed(order, check, deadline, met, answer.cited, request.aftersale_id))
    return out
