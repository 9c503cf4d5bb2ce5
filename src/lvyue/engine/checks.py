"""The check specification (检查规格): every check declared once, as data.

Each :class:`CheckSpec` says which parameters the check resolves, the moment that must have
happened for it to apply (its start), the moment that meets it, whose duty it is, which
modifiers apply and how its status is decided (its :data:`Rule`). Two small interpreters
read this table and nothing else about the checks: :mod:`lvyue.engine.online` (plain Python,
one order) and :mod:`lvyue.engine.expressions` (Ibis, DuckDB and Spark). ``explain``,
``preview``, the verdict labels and duties, and the workflows' deadlines (after-sales
timeouts, settlement, the delayed-shipping tool, the inspection requirement) read it too.

**Moments** are the names both interpreters give an order's and a request's instants as of
the evaluation instant (a Python dict online, columns in batch); how facts become moments is
:mod:`lvyue.engine.clocks`. docs/decisions/engine-one-check-spec.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lvyue.engine.clocks import RETURN_TYPES
from lvyue.model.enums import Check, Duty
from lvyue.rulebook.context import Clock

# -- moments ------------------------------------------------------------------------------
# The order's moments (each as of the evaluation instant; None / NULL = not yet).
PAY_TIME, PROMISED_SHIP_TIME, SHIP_TIME = "pay_time", "promised_ship_time", "ship_time"
PICKUP_TIME, HUB_TIME, RECEIPT_TIME = "pickup_time", "hub_time", "receipt_time"
TRACK_RECORD = "track_record"  # SF-5: the scan that meets a cross-border presale promise
# An after-sales request's moments.
CREATED_AT, AGREED_AT, HANDLED_AT = "created_at", "agreed_at", "merchant_handled_at"
RETURN_SHIPPED_AT, RECEIVED_AT = "return_shipped_at", "merchant_received_at"
RETURN_SIGNED_AT, REFUNDED_AT = "return_signed_at", "refunded_at"
REQUEST_MOMENTS = (CREATED_AT, HANDLED_AT, RETURN_SHIPPED_AT, RECEIVED_AT, RETURN_SIGNED_AT,
                   REFUNDED_AT)  # fmt: skip  # the facts of a request (agreed_at is derived)

# The rulebook's clocks (windows and duration anchors) as moments or order columns.
ORDER_CLOCKS: dict[Clock, str] = {
    Clock.PAY_TIME: PAY_TIME,
    Clock.PROMISED_SHIP_TIME: PROMISED_SHIP_TIME,
    Clock.SHIP_TIME: SHIP_TIME,
    Clock.PICKUP_TIME: PICKUP_TIME,
    Clock.RECEIPT_TIME: RECEIPT_TIME,
    Clock.AGREED_SHIP_TIME: "agreed_ship_time",  # agreements, known when made
    Clock.ACTIVITY_SHIP_DEADLINE: "activity_ship_deadline",
    Clock.PENALTY_SETTLEMENT_TIME: "penalty_settlement_time",  # set by the penalty
}
AFTERSALE_CLOCKS: dict[Clock, str] = {
    Clock.AFTERSALE_CREATED: CREATED_AT,
    Clock.AFTERSALE_AGREED: AGREED_AT,
    Clock.RETURN_SHIPPED: RETURN_SHIPPED_AT,
    Clock.RETURN_SIGNED: RETURN_SIGNED_AT,
}
MOMENT_CLOCKS = {m: c for c, m in {**ORDER_CLOCKS, **AFTERSALE_CLOCKS}.items()}


# -- how a status is decided ---------------------------------------------------------------
@dataclass(frozen=True)
class MetInstead:
    """When ``parameter`` resolves true, ``moment`` meets the check instead (SF-5)."""

    parameter: str
    moment: str


@dataclass(frozen=True)
class Deadline:
    """ok (met by the deadline) / violated (late or missed) / at_risk / pending."""

    parameter: str  # a Duration (from its anchor clock) or an Instant
    met_by: str  # the moment that meets it
    met_instead: MetInstead | None = None


@dataclass(frozen=True)
class Allowed:
    """VF-3/4/5: the ship mode (and the delayed-shipping tool, when used) allowed."""

    modes: str  # the allowed modes
    tool: str  # whether the delayed-shipping tool is allowed


@dataclass(frozen=True)
class Code:
    """BT-8/10/12: a category that ``required`` names ships with its own passed code."""

    required: str


@dataclass(frozen=True)
class Schedule:
    """The platform's own date: ``scheduled`` on the deadline ``parameter`` gives. Where
    ``intervention`` resolves true for the order, a platform intervention recorded on one of
    its requests (VF-8: 仅退款, 退货退款, 退货运费由商家承担) is said on the verdict: the refund
    (and the return shipping) comes from the merchant's account (VF-7 4.1 "从商家账户自动退款")."""

    parameter: str
    intervention: str | None = None


@dataclass(frozen=True)
class Bounds:
    """The promised moment lies within [low, high] (each a Duration from its anchor)."""

    low: str
    high: str


@dataclass(frozen=True)
class Claim:
    """The shipment's (carrier, waybill) is the order's own: ``review`` when an earlier
    shipment of another order claimed it (a fake-shipment pattern). lvyue's default (issue 12
    item 2b): no seed defines it (SF-7 points to 《商家发货行为管理规则》 for the other 虚假发货
    criteria, which the seeds do not contain), so it flags, never violates; two orders of one
    consumer may also travel in one parcel (合并发货). No parameter: it is not in the rulebook."""


Rule = Deadline | Allowed | Code | Schedule | Bounds | Claim


class Modifier(StrEnum):
    """What may change a decided status, in the order the interpreters apply them."""

    REPORT_DEADLINE = "report_deadline"  # SF-8: an approved report's new deadline replaces
    REPORT_WAIVER = "report_waiver"  # SF-8: an approved report without one waives (exempted)
    # Refund before shipping (issue 10 item 0, clocks.cancels_shipment): granted it closes the
    # duty (exempted), still open it suspends a breach (pending). CANCEL_BY_DEADLINE counts
    # only requests made by the check's deadline; CANCEL any made before the shipment.
    CANCEL_BY_DEADLINE = "cancel_by_deadline"
    CANCEL = "cancel"


class Scope(StrEnum):
    ORDER = "order"  # one verdict per order (aftersale_id "")
    AFTERSALE = "aftersale"  # one verdict per after-sales request


@dataclass(frozen=True)
class CheckSpec:
    check: Check
    rule: Rule
    starts: str  # the moment that must have happened for the check to apply
    duty: Duty  # whose duty (docs/decisions/engine-duty-per-check.md)
    label: str
    clauses: str  # where it comes from (the verdict cites the clauses the rulebook resolves)
    modifiers: tuple[Modifier, ...] = ()
    ship_modes: tuple[str, ...] = ()  # only orders in these ship modes (none: all)
    request_types: tuple[str, ...] = ()  # only these after-sales types (none: all)

    @property
    def scope(self) -> Scope:
        return Scope.AFTERSALE if self.starts in AFTERSALE_CLOCKS.values() else Scope.ORDER

    @property
    def clock(self) -> Clock | None:
        """The rulebook clock of ``starts`` (None for a moment the rulebook does not read)."""
        return MOMENT_CLOCKS.get(self.starts)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter the check resolves (explain traces each)."""
        rule = self.rule
        if isinstance(rule, Deadline):
            extra = (rule.met_instead.parameter,) if rule.met_instead else ()
            return (rule.parameter, *extra)
        if isinstance(rule, Allowed):
            return (rule.modes, rule.tool)
        if isinstance(rule, Code):
            return (rule.required,)
        if isinstance(rule, Schedule):
            return (rule.parameter, *([rule.intervention] if rule.intervention else []))
        if isinstance(rule, Claim):
            return ()
        return (rule.low, rule.high)

    @property
    def deadline_parameter(self) -> str:
        """The parameter that sets the check's deadline (workflows: when the platform acts)."""
        if isinstance(self.rule, Deadline | Schedule):
            return self.rule.parameter
        raise ValueError(f"{self.check} has no deadline parameter")


PROMISE_MODES = ("presale", "deposit_presale", "step")  # ship by a promised time (DR-1b, SF-5)
_SF8 = (Modifier.REPORT_DEADLINE, Modifier.REPORT_WAIVER)

MODE_RULE = Allowed(modes="ship.modes_allowed", tool="ship.delayed_tool_allowed")
CODE_RULE = Code(required="inspection.required")

# The checks, in no particular order (verdicts are sorted by check name).
SPECS: tuple[CheckSpec, ...] = (
    CheckSpec(
        Check.SHIP_DEADLINE,
        Deadline("ship.deadline", SHIP_TIME,
                 MetInstead("ship.met_by_track_record", TRACK_RECORD)),
        starts=PAY_TIME, duty=Duty.MERCHANT, label="shipping (发货)",
        clauses="DR-1; the announcements' deadlines (SF-1…5, VF-2, NY-1)",
        modifiers=(*_SF8, Modifier.CANCEL_BY_DEADLINE),
    ),
    CheckSpec(
        Check.SHIP_MODE, MODE_RULE, starts=PAY_TIME, duty=Duty.MERCHANT,
        label="ship mode (发货模式)", clauses="VF-3, VF-4, VF-5",
    ),
    CheckSpec(
        Check.PICKUP, Deadline("pickup.limit", PICKUP_TIME), starts=SHIP_TIME,
        duty=Duty.CARRIER, label="pickup scan (揽收)", clauses="SF-6, DR-2",
        modifiers=(Modifier.REPORT_WAIVER, Modifier.CANCEL),
    ),
    CheckSpec(
        Check.FIRST_HUB, Deadline("first_hub.limit", HUB_TIME), starts=PICKUP_TIME,
        duty=Duty.CARRIER, label="first sorting centre (首个分拨中心)", clauses="SF-7, DR-2",
        modifiers=(Modifier.REPORT_WAIVER, Modifier.CANCEL),
    ),
    CheckSpec(
        Check.AFTERSALE_MERCHANT_CONFIRM,
        Deadline("aftersale.merchant_confirm.limit", HANDLED_AT), starts=CREATED_AT,
        duty=Duty.MERCHANT, label="merchant handles the request (商家处理售后)",
        clauses="SF-9, DR-3",
    ),
    CheckSpec(
        Check.AFTERSALE_CONSUMER_RETURN,
        Deadline("aftersale.consumer_return.limit", RETURN_SHIPPED_AT), starts=AGREED_AT,
        duty=Duty.CONSUMER, label="consumer sends the return (消费者退货)",
        clauses="SF-9, DR-3", request_types=RETURN_TYPES,
    ),
    CheckSpec(
        Check.AFTERSALE_MERCHANT_RECEIVE,
        Deadline("aftersale.merchant_receive.limit", RECEIVED_AT), starts=RETURN_SHIPPED_AT,
        duty=Duty.MERCHANT, label="merchant confirms the return (商家确认收货)",
        clauses="SF-9, DR-3", request_types=RETURN_TYPES,
    ),
    CheckSpec(
        Check.AFTERSALE_REFUND,
        Deadline("aftersale.refund.limit", REFUNDED_AT), starts=RETURN_SIGNED_AT,
        duty=Duty.MERCHANT, label="refund or re-shipment (退款/补发)",
        clauses="SF-9, DR-3", request_types=RETURN_TYPES,
    ),
    CheckSpec(
        Check.INSPECTION, CODE_RULE, starts=SHIP_TIME, duty=Duty.MERCHANT,
        label="BTAS inspection code (质检码)", clauses="BT-8, BT-10, BT-12",
    ),
    CheckSpec(
        Check.SETTLEMENT, Schedule("settlement.delay", "aftersale.intervention_allowed"),
        starts=RECEIPT_TIME, duty=Duty.PLATFORM, label="settlement (结算)",
        clauses="DR-5, VF-6, VF-8a",
    ),
    CheckSpec(
        Check.PRESALE_PROMISE, Bounds("ship.presale_min", "ship.presale_max"),
        starts=PROMISED_SHIP_TIME, duty=Duty.MERCHANT,
        label="presale promised ship time (预售承诺发货时间)",
        clauses="SF-5, DR-1", ship_modes=PROMISE_MODES,
    ),
    CheckSpec(
        Check.WAYBILL_REUSE, Claim(), starts=SHIP_TIME, duty=Duty.MERCHANT,
        label="waybill (运单号)",
        clauses="none: lvyue default (docs/decisions/engine-one-check-spec.md)",
    ),
)  # fmt: skip

CHECKS: dict[Check, CheckSpec] = {spec.check: spec for spec in SPECS}
ORDER_SPECS = tuple(s for s in SPECS if s.scope is Scope.ORDER)
AFTERSALE_SPECS = tuple(s for s in SPECS if s.scope is Scope.AFTERSALE)
# Every parameter some check resolves (the batch path slices only these).
PARAMETERS: tuple[str, ...] = tuple(dict.fromkeys(p for s in SPECS for p in s.parameters))
