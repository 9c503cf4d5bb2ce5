"""The workflows' state machines and the inspection-code signer, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lvyue.workflows import after_sales, inspection, measures, reports
from lvyue.workflows.inspection import CodeSigner, IssuedCode, check_code_for_shipment
from lvyue.workflows.machine import Conflict, Machine, Refusal, Transition

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_fire_logs_actor_time_and_clause() -> None:
    step = inspection.MACHINE.fire("received", "pass", subject_id="I1", actor="agency", at=NOW)
    assert (step.source, step.target, step.clause, step.actor, step.at) == (
        "received",
        "passed",
        "BT-10",
        "agency",
        NOW,
    )


def test_a_transition_not_allowed_names_the_allowed_ones() -> None:
    with pytest.raises(
        Conflict, match=r"cannot 'pass' in state 'created' \(allowed: cancel, send\)"
    ):
        inspection.MACHINE.fire("created", "pass", subject_id="I1", actor="a", at=NOW)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reports.MACHINE.fire(
            "pending", "approve", subject_id="R", actor="op", at=datetime(2026, 1, 1)
        )


def test_duplicate_transitions_are_a_definition_error() -> None:
    with pytest.raises(ValueError, match="share"):
        Machine("x", "a", [Transition("a", "go", "b", "C"), Transition("a", "go", "c", "C")])


@pytest.mark.parametrize(
    "machine", [inspection.MACHINE, reports.MACHINE, after_sales.MACHINE, measures.MACHINE]
)
def test_every_state_is_reachable_from_the_initial_one(machine: Machine) -> None:
    seen, frontier = {machine.initial}, [machine.initial]
    while frontier:
        state = frontier.pop()
        for t in machine.transitions:
            if t.source == state and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    assert seen == machine.states


def test_after_sales_timeouts_cover_every_waiting_state() -> None:
    waiting = {t.source for t in after_sales.MACHINE.transitions}
    assert set(after_sales.TIMEOUTS) == waiting
    for state, timeout in after_sales.TIMEOUTS.items():
        assert after_sales.MACHINE.can(state, timeout.event)


SIGNER = CodeSigner(b"test-secret")


def test_codes_verify_only_for_their_item_and_merchant() -> None:
    code_id, code = SIGNER.issue("ITEM-1", "m1")
    assert SIGNER.code_id(code) == code_id
    assert SIGNER.is_authentic(code, "ITEM-1", "m1")
    assert not SIGNER.is_authentic(code, "ITEM-2", "m1")
    assert not SIGNER.is_authentic(code, "ITEM-1", "m2")
    assert not CodeSigner(b"other-secret").is_authentic(code, "ITEM-1", "m1")


def test_codes_are_unique_and_unguessable() -> None:
    codes = {SIGNER.issue("ITEM-1", "m1")[1] for _ in range(200)}
    assert len(codes) == 200
    code_id, code = SIGNER.issue("ITEM-1", "m1")
    forged = f"BT1-{code_id}-{'A' * len(code.split('-')[2])}"
    assert not SIGNER.is_authentic(forged, "ITEM-1", "m1")


def _check(code: str | None, issued: IssuedCode | None, item: str = "ITEM-1") -> str:
    return check_code_for_shipment(
        SIGNER,
        code,
        item_id=item,
        merchant_id="m1",
        order_id="O1",
        issued=issued,
        required_clause="BT-1",
    )


def test_shipment_check_names_the_clause_for_each_fault() -> None:
    code_id, code = SIGNER.issue("ITEM-1", "m1")
    issued = IssuedCode(code_id, "ITEM-1", "m1", None)
    assert _check(code, issued) == code_id
    with pytest.raises(Refusal) as missing:
        _check(None, None)
    assert missing.value.clause == "BT-1" and missing.value.field == "inspection_code"
    with pytest.raises(Refusal, match="another item") as other:
        _check(code, issued, item="ITEM-2")
    assert other.value.clause == "BT-10"
    with pytest.raises(Refusal, match="forged"):
        _check(code[:-2] + ("AA" if not code.endswith("AA") else "BB"), issued)
    with pytest.raises(Refusal, match="not a BTAS code"):
        _check("hello", None)
    with pytest.raises(Conflict, match="already bound to order O0"):
        _check(code, IssuedCode(code_id, "ITEM-1", "m1", "O0"))
    assert _check(code, IssuedCode(code_id, "ITEM-1", "m1", "O1")) == code_id  # replay
