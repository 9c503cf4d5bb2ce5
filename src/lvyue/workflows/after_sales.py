"""After-sales (售后, SF-9, DR-3): request → merchant handles → return → receipt → refund.

States: ``requested`` → ``agreed`` (return types) or ``refunded`` (refund only) or
``rejected``; ``agreed`` → ``return_shipped`` (consumer uploads the return tracking number)
→ ``received`` (merchant confirms receipt) → ``refunded`` | ``reshipped`` (exchange).

Each waiting state has a limit from the rulebook (``aftersale.<step>.limit``). When it
passes, the sweep acts for the platform (``TIMEOUTS``): it agrees, confirms receipt or
refunds on the merchant's behalf and records a violation of the merchant; a consumer who
never sends the return has the request closed, with no violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lvyue.engine.checks import CHECKS, Schedule
from lvyue.engine.clocks import RETURN_TYPES, agreed_at
from lvyue.model.enums import AfterSaleIntervention, AfterSaleType, Check
from lvyue.rulebook.context import Clock, OrderContext
from lvyue.workflows.machine import Conflict, Machine, Refusal, Transition
from lvyue.workflows.rules import CitedAnswer, Rules, cited

WORKFLOW = "after_sale"
OPEN_STATES = ("requested", "agreed", "return_shipped", "received")

MACHINE = Machine(
    WORKFLOW,
    "requested",
    [
        Transition("requested", "agree", "agreed", "SF-9"),
        Transition("requested", "refund", "refunded", "SF-9"),  # refund only: agree = refund
        Transition("requested", "reject", "rejected", "SF-9"),
        Transition("requested", "auto_agree", "agreed", "SF-9"),
        Transition("requested", "auto_refund", "refunded", "SF-9"),
        Transition("agreed", "ship_return", "return_shipped", "SF-9"),
        Transition("agreed", "consumer_timeout", "closed", "SF-9"),
        Transition("return_shipped", "receive", "received", "SF-9"),
        Transition("return_shipped", "auto_receive", "received", "SF-9"),
        Transition("received", "refund", "refunded", "SF-9"),
        Transition("received", "reship", "reshipped", "SF-9"),
        Transition("received", "auto_refund", "refunded", "SF-9"),
        # VF-8a: the platform steps in (平台介入): grants the refund, or agrees to the return
        *(Transition(s, "intervene_refund", "refunded", "VF-8a") for s in OPEN_STATES),
        Transition("requested", "intervene_agree", "agreed", "VF-8a"),
    ],
)


@dataclass(frozen=True)
class Timeout:
    """What the platform does when a waiting state's limit passes (lvyue's reading of SF-9);
    the limit, its clock and whose duty it is are the check's (engine.checks)."""

    check: Check
    event: str  # fired by the platform

    @property
    def parameter(self) -> str:
        return CHECKS[self.check].deadline_parameter

    @property
    def clock(self) -> Clock | None:
        return CHECKS[self.check].clock

    @property
    def merchant_at_fault(self) -> bool:
        """Record a violation of the merchant: the check is the merchant's duty."""
        return CHECKS[self.check].duty.merchants


TIMEOUTS: dict[str, Timeout] = {
    "requested": Timeout(Check.AFTERSALE_MERCHANT_CONFIRM, "auto_agree"),
    "agreed": Timeout(Check.AFTERSALE_CONSUMER_RETURN, "consumer_timeout"),
    "return_shipped": Timeout(Check.AFTERSALE_MERCHANT_RECEIVE, "auto_receive"),
    "received": Timeout(Check.AFTERSALE_REFUND, "auto_refund"),
}


@dataclass(frozen=True)
class AfterSaleProgress:
    """Where one request stands in the workflow: its state, the instants of its steps so far
    (aware; None = not yet) and its order's context — the request's facts are the store's
    ``after_sales`` row (``model.rows.AfterSaleRow`` in the facts format)."""

    aftersale_id: str
    order_id: str
    type: AfterSaleType
    state: str
    created_at: datetime
    order: OrderContext
    handled_at: datetime | None = None
    decision: str | None = None  # agreed | rejected (facts format merchant_decision)
    return_shipped_at: datetime | None = None
    return_signed_at: datetime | None = None
    received_at: datetime | None = None
    extra_clocks: dict[Clock, datetime] = field(default_factory=dict)

    def context(self) -> OrderContext:
        clocks = dict(self.order.clocks)
        clocks[Clock.AFTERSALE_CREATED] = self.created_at
        agreed = agreed_at(self.handled_at, self.decision, self.return_shipped_at)
        if agreed is not None:  # SF-9b: an agreement, never a rejection
            clocks[Clock.AFTERSALE_AGREED] = agreed
        if self.return_shipped_at is not None:
            clocks[Clock.RETURN_SHIPPED] = self.return_shipped_at
        if self.return_signed_at is not None:
            clocks[Clock.RETURN_SIGNED] = self.return_signed_at
        clocks.update(self.extra_clocks)
        flags = set(self.order.flags)
        shipped = self.order.clocks.get(Clock.SHIP_TIME)
        if shipped is not None and shipped <= self.created_at:
            flags.add("shipped_before_aftersale")  # SF-9 applies only after shipping
        return OrderContext(
            merchant_type=self.order.merchant_type,
            category=self.order.category,
            ship_mode=self.order.ship_mode,
            flags=frozenset(flags),
            clocks=clocks,
        )


@dataclass(frozen=True)
class Due:
    """The limit running in the request's current state."""

    timeout: Timeout
    deadline: datetime
    clause: str


def merchant_event(kind: AfterSaleType, agree: bool) -> str:
    """The event a merchant's decision fires: refund-only requests are refunded on agreement."""
    if not agree:
        return "reject"
    return "refund" if kind is AfterSaleType.REFUND_ONLY else "agree"


def due(rules: Rules, request: AfterSaleProgress) -> Due | None:
    """The deadline of the current state from the rulebook, or None in a final state."""
    timeout = TIMEOUTS.get(request.state)
    if timeout is None:
        return None
    deadline, answer = rules.deadline(timeout.parameter, request.context())
    found = cited(answer)
    if deadline is None or found is None:
        return None  # no clause sets this limit: the platform does not act on its own
    return Due(timeout, deadline, found.clause_id)


def timeout_event(timeout: Timeout, kind: AfterSaleType) -> str:
    if timeout.event == "auto_agree" and kind is AfterSaleType.REFUND_ONLY:
        return "auto_refund"
    return timeout.event


def overdue(rules: Rules, request: AfterSaleProgress, now: datetime) -> Due | None:
    """The expired limit if the request's current state has run out of time at ``now``."""
    current = due(rules, request)
    if current is None or now < current.deadline:
        return None
    return current


def intervention_allowed(rules: Rules, order: OrderContext) -> CitedAnswer:
    """The clause that lets the platform step into this order's after-sales (VF-8a: the
    festival's flower orders), or ``Refusal``: elsewhere no seed sentence allows it."""
    rule = CHECKS[Check.SETTLEMENT].rule  # the settlement check says what it costs
    assert isinstance(rule, Schedule) and rule.intervention is not None
    found = cited(rules.resolve(rule.intervention, order))
    if found is None or found.value is not True:
        raise Refusal(
            "the platform steps into after-sales only on the festival's flower orders (VF-8: "
            "paid 2024-02-08 00:00:00 – 2024-02-14 23:59:59)",
            clause="VF-8",
            field="aftersale_id",
        )
    return found


def intervention_event(kind: AfterSaleIntervention, request: AfterSaleProgress) -> str | None:
    """The step an intervention takes the request through (None: recorded, no step).

    仅退款 refunds now, in any open state; 退货退款 and 退货运费由商家承担 agree to the return of a
    request still waiting for the merchant (the refund follows its receipt, SF-9)."""
    if request.state not in OPEN_STATES:
        raise Conflict(f"request {request.aftersale_id} is {request.state}: nothing to step into",
                       field="aftersale_id")  # fmt: skip
    if kind is AfterSaleIntervention.REFUND_ONLY:
        return "intervene_refund"
    wanted = ("return_refund",) if kind is AfterSaleIntervention.RETURN_REFUND else RETURN_TYPES
    if request.type.value not in wanted:
        raise Refusal(f"{kind.value} applies to a {' or '.join(wanted)} request, not "
                      f"{request.type.value}", clause="VF-8a", field="intervention")  # fmt: skip
    return "intervene_agree" if request.state == "requested" else None
