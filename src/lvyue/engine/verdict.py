"""Verdicts: one row per (order or after-sales request, check), and what their words mean.

The ``detail`` text is rendered from ``(check, reason)`` through the tables below, by both the
online and the batch path, so the two can only differ in the facts they computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from lvyue.engine.checks import SPECS
from lvyue.model.enums import Check, Duty, VerdictStatus

TIME = pa.timestamp("s", tz="UTC")

VERDICT_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("aftersale_id", pa.string()),  # "" for order checks
        ("merchant_id", pa.string()),
        ("check", pa.string()),
        ("duty", pa.string()),  # whose duty (CHECK_DUTY); only the merchant's are violations
        ("status", pa.string()),
        ("deadline", TIME),
        ("done_at", TIME),
        ("clauses", pa.string()),  # ";"-joined clause IDs that decided it (GN-3)
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)

# Why a verdict has its status; keys of REASONS.
OK, LATE, MISSED, WAITING, WAIVED = "ok", "late", "missed", "waiting", "waived"
MODE_BANNED, TOOL_BANNED, MODE_OK = "mode_not_allowed", "delayed_tool_not_allowed", "mode_ok"
NO_CODE, UNKNOWN_CODE, FAILED_CODE, REUSED_CODE = "no_code", "unknown_code", "failed", "reused"
PASSED, SCHEDULED = "passed", "scheduled"
PROMISE_EARLY, PROMISE_LATE, PROMISE_OK = "promise_too_early", "promise_too_late", "promise_ok"
SHIPPED_BEFORE_PASS = "shipped_before_pass"  # BT-12: the pass must come before shipping
REFUNDED, REFUND_OPEN = "refunded", "refund_open"  # a refund request before shipping (item 0)
WAYBILL_REUSED = "waybill_reused"  # issue 12 item 2b: flagged for review (lvyue default)
# VF-8a: the platform stepped into a request; the refund (and return shipping) is the merchant's
INTERVENED_REFUND, INTERVENED_SHIPPING = "intervened_refund", "intervened_shipping"

REPORT_CLAUSE = "SF-8"  # an approved report (报备) waives the penalty or sets a new deadline

CHECK_LABELS: dict[str, str] = {spec.check: spec.label for spec in SPECS}
# Whose duty each check judges (the specification's). Only Duty.merchants ones become
# violations, penalties or measures: the platform treats the carrier's pickup and first-hub
# scans as the merchant's (SF-6 揽收, SF-7 虚假发货); a consumer who never sends the return
# closes the request (SF-9b).
CHECK_DUTY: dict[str, Duty] = {spec.check: spec.duty for spec in SPECS}

REASONS: dict[str, str] = {
    OK: "done in time",
    LATE: "done after the deadline",
    MISSED: "not done by the deadline",
    WAITING: "not done yet, deadline ahead",
    WAIVED: "waived by an approved report",
    MODE_BANNED: "ship mode not allowed when paid",
    TOOL_BANNED: "delayed-shipping tool not allowed when paid",
    MODE_OK: "mode and tool allowed",
    NO_CODE: "shipped without an inspection code",
    UNKNOWN_CODE: "code unknown to BTAS for this merchant (forged?)",
    FAILED_CODE: "code did not pass inspection",
    REUSED_CODE: "code already bound to an earlier shipment",
    SHIPPED_BEFORE_PASS: "shipped before the item passed inspection",
    PROMISE_EARLY: "promised ship time earlier than the minimum after payment",
    PROMISE_LATE: "promised ship time later than the maximum after payment",
    PROMISE_OK: "promised ship time within the bounds",
    PASSED: "passed code bound",
    SCHEDULED: "settles on the deadline",
    REFUNDED: "refunded on a request made before shipping was due: no shipment owed",
    REFUND_OPEN: "a refund request made before shipping was due is still open",
    WAYBILL_REUSED: "waybill already claimed by an earlier shipment: suspected fake shipment, "
    "for review (lvyue default, not a violation)",
    INTERVENED_REFUND: "settles on the deadline; the platform stepped into after-sales "
    "(平台介入) and the refund comes from the merchant's account",
    INTERVENED_SHIPPING: "settles on the deadline; the platform stepped into after-sales "
    "(平台介入): the refund and the return shipping come from the merchant's account",
}


def detail_text(check: str, reason: str) -> str:
    return f"{CHECK_LABELS[check]}: {REASONS[reason]}"


DETAILS: dict[str, str] = {
    f"{check}|{reason}": detail_text(check, reason) for check in CHECK_LABELS for reason in REASONS
}


@dataclass(frozen=True)
class Verdict:
    order_id: str
    aftersale_id: str
    merchant_id: str
    check: Check
    status: VerdictStatus
    deadline: datetime | None
    done_at: datetime | None
    clauses: str
    reason: str

    @property
    def detail(self) -> str:
        return detail_text(self.check, self.reason)

    @property
    def duty(self) -> Duty:
        return CHECK_DUTY[self.check]

    @property
    def merchant_violation(self) -> bool:
        """A violation the merchant answers for (SF-10): violated and the merchant's duty."""
        return self.status is VerdictStatus.VIOLATED and self.duty.merchants

    def row(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "aftersale_id": self.aftersale_id,
            "merchant_id": self.merchant_id,
            "check": self.check.value,
            "duty": self.duty.value,
            "status": self.status.value,
            "deadline": self.deadline,
            "done_at": self.done_at,
            "clauses": self.clauses,
            "reason": self.reason,
            "detail": self.detail,
        }


def verdicts_table(verdicts: list[Verdict]) -> pa.Table:
    return sort_verdicts(pa.Table.from_pylist([v.row() for v in verdicts], VERDICT_SCHEMA))


SORT_KEYS = [("order_id", "ascending"), ("aftersale_id", "ascending"), ("check", "ascending")]


def sort_verdicts(table: pa.Table) -> pa.Table:
    """The canonical order of a verdict table (determinism, differential tests)."""
    return table.select(VERDICT_SCHEMA.names).cast(VERDICT_SCHEMA).sort_by(SORT_KEYS)


def join_clauses(*ids: str | None) -> str:
    seen: list[str] = []
    for clause in ids:
        if clause and clause not in seen:
            seen.append(clause)
    return ";".join(seen)
