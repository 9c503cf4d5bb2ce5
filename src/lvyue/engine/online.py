"""The online path: one order evaluated in process (service, ``explain``), plain Python over
the rulebook's resolver. The batch path computes the same verdicts over a parameter table;
the differential tests prove they agree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from lvyue.engine import checks as cs
from lvyue.engine import clocks as ck
from lvyue.engine import verdict as v
from lvyue.engine.order import OrderFacts
from lvyue.engine.verdict import Verdict, join_clauses
from lvyue.model.enums import Check, VerdictStatus
from lvyue.model.rows import AfterSaleRow
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
    moments: Mapping[str, datetime | None]

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
            order_id=self.facts.order.order_id,
            aftersale_id=aftersale_id,
            merchant_id=self.facts.order.merchant_id,
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
    """Every verdict on one order and its after-sales requests, as of ``as_of``: each check
    of the specification (:mod:`lvyue.engine.checks`) judged by :func:`_judge`."""
    order = _prepare(facts, as_of, horizon)
    if order is None:
        return []
    scope = _Scope(order.moments, order.ctx)
    out = [_judge(order, spec, scope, rulebook) for spec in cs.ORDER_SPECS]
    for request in facts.after_sales:
        created = ck.seen(request.created_at, as_of)
        if created is None:
            continue
        at = _request_scope(order, request, created)
        out += [_judge(order, spec, at, rulebook) for spec in cs.AFTERSALE_SPECS]
    return sorted((x for x in out if x is not None), key=lambda x: (x.aftersale_id, x.check))


@dataclass(frozen=True)
class _Scope:
    """What one check reads: the moments (cs names) and the context it resolves with."""

    moments: Mapping[str, datetime | None]
    ctx: OrderContext
    aftersale_id: str = ""
    request_type: str | None = None


def _judge(order: _Order, spec: cs.CheckSpec, at: _Scope, rb: Resolves) -> Verdict | None:
    """One check of the specification on one order (or request), or None if it does not
    apply: its start has not happened, or the order's mode or the request's type is not its."""
    if at.moments.get(spec.starts) is None:
        return None
    if spec.ship_modes and order.facts.order.ship_mode.value not in spec.ship_modes:
        return None
    if spec.request_types and at.request_type not in spec.request_types:
        return None
    rule = spec.rule
    if isinstance(rule, cs.Deadline):
        return _deadline(order, spec, rule, at, rb)
    if isinstance(rule, cs.Allowed):
        return _ship_mode(order, rule, rb)
    if isinstance(rule, cs.Code):
        return _inspection(order, rule, rb)
    if isinstance(rule, cs.Schedule):
        return _schedule(order, spec, rule, rb)
    if isinstance(rule, cs.Claim):
        return _claim(order, spec)
    return _bounds(order, spec, rule, rb)


def order_moments(facts: OrderFacts, as_of: datetime) -> dict[str, datetime | None]:
    """The order's moments as of ``as_of`` (see :mod:`lvyue.engine.clocks`)."""
    ship = ck.seen(facts.order.ship_time, as_of)
    pickups: list[datetime] = []
    hubs: list[datetime] = []
    warehouse_ins: list[datetime] = []
    for e in facts.tracking:
        if e.time > as_of:
            continue
        if e.kind == "pickup":
            pickups.append(e.time)
        elif e.kind in ck.HUB_KINDS:
            hubs.append(e.time)
        elif e.kind == ck.WAREHOUSE_IN:
            warehouse_ins.append(e.time)
    paid = ck.seen(facts.order.pay_time, as_of)
    first_pickup = ck.after_payment(ck.first(pickups), paid)
    first_hub = ck.after_payment(ck.first(hubs), paid)
    first_warehouse_in = ck.after_payment(ck.first(warehouse_ins), paid)
    pickup = ck.pickup_clock(ship, first_pickup)
    record = ck.track_record(facts.order.cross_border_mode, first_pickup, first_warehouse_in)
    return {
        cs.PAY_TIME: paid,
        cs.PROMISED_SHIP_TIME: facts.order.promised_ship_time,  # a promise, known at payment
        cs.SHIP_TIME: ship,
        cs.PICKUP_TIME: pickup,
        cs.HUB_TIME: ck.hub_clock(pickup, first_hub),
        cs.TRACK_RECORD: record,
        cs.RECEIPT_TIME: ck.seen(facts.order.confirmed_receipt_time, as_of),
        # agreements, known when made; the penalty's settlement, set by the penalty
        "agreed_ship_time": facts.order.agreed_ship_time,
        "activity_ship_deadline": facts.order.activity_ship_deadline,
        "penalty_settlement_time": facts.order.penalty_settlement_time,
    }


def order_clocks(facts: OrderFacts, as_of: datetime) -> dict[Clock, datetime]:
    """The order's clocks as of ``as_of`` (the rulebook's names for its moments)."""
    return _clocks(order_moments(facts, as_of))


def _clocks(moments: Mapping[str, datetime | None]) -> dict[Clock, datetime]:
    out = {}
    for clock, name in cs.ORDER_CLOCKS.items():
        moment = moments[name]
        if moment is not None:
            out[clock] = moment
    return out


def _prepare(facts: OrderFacts, as_of: datetime, horizon: timedelta) -> _Order | None:
    moments = order_moments(facts, as_of)
    if moments[cs.PAY_TIME] is None:
        return None  # not paid yet as of the evaluation instant
    clocks = _clocks(moments)
    row = facts.order
    flags = facts.flags | ck.derived_flags(row.agreed_ship_time, row.activity)
    ctx = OrderContext(row.merchant_type, row.category, row.ship_mode, flags, clocks)
    return _Order(facts, as_of, horizon, ctx, clocks, moments)


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
        if r.status == "approved" and r.merchant_id == order.facts.order.merchant_id
    ]


def _waived(order: _Order, verdict: Verdict) -> Verdict:
    """SF-8: an approved report without a new deadline waives the check."""
    if None not in _approved_reports(order):
        return verdict
    clauses = join_clauses(verdict.clauses, v.REPORT_CLAUSE)
    return replace(verdict, status=VerdictStatus.EXEMPTED, reason=v.WAIVED, clauses=clauses)


def _deadline(
    order: _Order, spec: cs.CheckSpec, rule: cs.Deadline, at: _Scope, rb: Resolves
) -> Verdict | None:
    """A Deadline rule and the spec's modifiers, in the order cs.Modifier lists them."""
    answer = rb.resolve(rule.parameter, at.ctx)
    deadline = deadline_from(answer, at.ctx.clocks) if answer else None
    if answer is None or deadline is None:
        return None
    clauses, mods = answer.cited, spec.modifiers
    new_deadlines = [d for d in _approved_reports(order) if d is not None]
    if cs.Modifier.REPORT_DEADLINE in mods and new_deadlines:
        deadline = max(new_deadlines)  # SF-8: an approved report's new deadline replaces it
        clauses = join_clauses(clauses, v.REPORT_CLAUSE)
    done = at.moments.get(rule.met_by)
    instead = rule.met_instead
    met = rb.resolve(instead.parameter, at.ctx) if instead is not None else None
    if instead is not None and met is not None and met.value is True:
        done = at.moments.get(instead.moment)  # SF-5: a record in the track meets it
        clauses = join_clauses(clauses, met.cited)
    verdict = _timed(order, spec.check, deadline, done, clauses, at.aftersale_id)
    if cs.Modifier.REPORT_WAIVER in mods:
        verdict = _waived(order, verdict)
    if cs.Modifier.CANCEL_BY_DEADLINE in mods:
        verdict = _cancelled(order, verdict, deadline)
    elif cs.Modifier.CANCEL in mods:
        verdict = _cancelled(order, verdict, None)
    return verdict


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


def _ship_mode(order: _Order, rule: cs.Allowed, rb: Resolves) -> Verdict | None:
    """VF-3/4: the mode and the delayed-shipping tool must be allowed when paid; VF-5: the
    mode when shipped (clocks.mode_ship_clock)."""
    paid = order.anchors[Clock.PAY_TIME]
    ship = ck.mode_ship_clock(order.anchors.get(Clock.SHIP_TIME), paid)
    ctx = replace(order.ctx, clocks={**order.ctx.clocks, Clock.SHIP_TIME: ship})
    modes = rb.resolve(rule.modes, ctx)
    tool = rb.resolve(rule.tool, ctx) if order.facts.order.delayed_shipping else None
    if modes is None and tool is None:
        return None
    allowed = modes.value if modes is not None else None
    if (
        modes is not None
        and isinstance(allowed, frozenset)
        and order.facts.order.ship_mode not in allowed
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


def _inspection(order: _Order, rule: cs.Code, rb: Resolves) -> Verdict | None:
    """BT-8, BT-10, BT-12: a required category ships only with its own passed code."""
    ship = order.anchors[Clock.SHIP_TIME]
    answer = rb.resolve(rule.required, order.ctx)
    if answer is None or answer.value is not True:
        return None
    reason = _code_problem(order)
    status = VerdictStatus.OK if reason == v.PASSED else VerdictStatus.VIOLATED
    return order.verdict(Check.INSPECTION, status, reason, done_at=ship, clauses=answer.cited)


def _code_problem(order: _Order) -> str:
    facts, as_of = order.facts, order.as_of
    found = facts.inspection
    if facts.order.inspection_code is None:
        return v.NO_CODE
    if (
        found is None
        or found.merchant_id != facts.order.merchant_id
        or (found.inspected_at is not None and found.inspected_at > as_of)
    ):
        return v.UNKNOWN_CODE
    if found.result != "pass":
        return v.FAILED_CODE
    ship = order.anchors[Clock.SHIP_TIME]
    if found.inspected_at is not None and ship < found.inspected_at:
        return v.SHIPPED_BEFORE_PASS  # BT-12 "禁止商家未通过Btas质检情况自行向消费者发货"
    shipped = [(t, oid) for t, oid in facts.code_shipments if t <= as_of]
    if shipped and min(shipped)[1] != facts.order.order_id:
        return v.REUSED_CODE
    return v.PASSED


def _schedule(order: _Order, spec: cs.CheckSpec, rule: cs.Schedule, rb: Resolves) -> Verdict | None:
    """The platform's date (VF-6 / DR-5: settles ``settlement.delay`` after receipt)."""
    answer = rb.resolve(rule.parameter, order.ctx)
    deadline = deadline_from(answer, order.anchors) if answer else None
    if answer is None or deadline is None:
        return None
    verdict = order.verdict(
        spec.check, VerdictStatus.SCHEDULED, v.SCHEDULED,
        deadline=deadline, clauses=answer.cited,
    )  # fmt: skip
    return _intervened(order, verdict, rule.intervention, rb)


def _intervened(order: _Order, verdict: Verdict, parameter: str | None, rb: Resolves) -> Verdict:
    """checks.Schedule.intervention (VF-8a): a platform intervention on one of the order's
    requests by as-of, where the rulebook allows one, is said on the settlement verdict (done
    at the first; the return shipping when any charged it to the merchant)."""
    found = [
        (at, r.intervention)
        for r in order.facts.after_sales
        if r.intervention is not None and (at := ck.seen(r.intervened_at, order.as_of))
    ]
    allowed = rb.resolve(parameter, order.ctx) if parameter and found else None
    if allowed is None or allowed.value is not True:
        return verdict
    shipping = any(kind == ck.SHIPPING_INTERVENTION for _, kind in found)
    return replace(
        verdict,
        reason=v.INTERVENED_SHIPPING if shipping else v.INTERVENED_REFUND,
        done_at=min(at for at, _ in found),
        clauses=join_clauses(verdict.clauses, allowed.cited),
    )


def _bounds(order: _Order, spec: cs.CheckSpec, rule: cs.Bounds, rb: Resolves) -> Verdict | None:
    """SF-5, DR-1: the promised ship time lies min–max (2–15 d) after payment."""
    promised = order.moments[spec.starts]
    assert promised is not None  # _judge: the check starts with it
    low, high = rb.resolve(rule.low, order.ctx), rb.resolve(rule.high, order.ctx)
    earliest = deadline_from(low, order.anchors) if low else None
    latest = deadline_from(high, order.anchors) if high else None
    if low is None or high is None or earliest is None or latest is None:
        return None
    if promised < earliest:
        status, reason, clauses = VerdictStatus.VIOLATED, v.PROMISE_EARLY, low.cited
    elif promised > latest:
        status, reason, clauses = VerdictStatus.VIOLATED, v.PROMISE_LATE, high.cited
    else:
        status, reason = VerdictStatus.OK, v.PROMISE_OK
        clauses = join_clauses(low.cited, high.cited)
    return order.verdict(
        spec.check, status, reason, deadline=latest, done_at=promised, clauses=clauses
    )


def _claim(order: _Order, spec: cs.CheckSpec) -> Verdict | None:
    """checks.Claim: flagged for review when an earlier shipment claimed the waybill."""
    if order.facts.waybill_claimed_by is None:
        return None
    return order.verdict(
        spec.check, VerdictStatus.REVIEW, v.WAYBILL_REUSED, done_at=order.moments[spec.starts]
    )


def request_moments(request: AfterSaleRow, as_of: datetime) -> dict[str, datetime | None]:
    """The request's step instants as of ``as_of``, and ``agreed_at`` (clocks.agreed_at)."""
    out = {name: ck.seen(getattr(request, name), as_of) for name in cs.REQUEST_MOMENTS}
    out[cs.AGREED_AT] = ck.agreed_at(
        out[cs.HANDLED_AT], request.merchant_decision, out[cs.RETURN_SHIPPED_AT]
    )
    return out


def _aftersale_ctx(
    order: _Order, created: datetime, seen: Mapping[str, datetime | None]
) -> OrderContext:
    """The request's context: its clocks, and the SF-9 flag when the order had shipped."""
    anchors = dict(order.anchors)
    for clock, name in cs.AFTERSALE_CLOCKS.items():
        moment = seen[name]
        if moment is not None:
            anchors[clock] = moment
    flags = order.ctx.flags
    if ck.shipped_before(order.anchors.get(Clock.SHIP_TIME), created):
        flags = flags | {ck.SHIPPED_BEFORE_AFTERSALE}
    return replace(order.ctx, flags=flags, clocks=anchors)


def _request_scope(order: _Order, request: AfterSaleRow, created: datetime) -> _Scope:
    seen = request_moments(request, order.as_of)
    ctx = _aftersale_ctx(order, created, seen)
    return _Scope({**order.moments, **seen}, ctx, request.aftersale_id, request.type)


def contexts(facts: OrderFacts, as_of: datetime) -> dict[str, OrderContext]:
    """The contexts the checks resolve with: "" for the order, else per after-sales id."""
    order = _prepare(facts, as_of, DEFAULT_HORIZON)
    if order is None:
        return {}
    out = {"": order.ctx}
    for request in facts.after_sales:
        created = ck.seen(request.created_at, as_of)
        if created is not None:
            out[request.aftersale_id] = _request_scope(order, request, created).ctx
    return out
