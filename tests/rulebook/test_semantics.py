"""Default and exception, conflicts, missing clocks, deadlines, versions (BT-15), time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.rulebook.drafts import CONFLICTING, REVISED, write_draft
from tests.rulebook.helpers import FLOWER, PHONE, SHOES, bj, order

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.rulebook import (
    Clock,
    ConflictError,
    Duration,
    Instant,
    OrderContext,
    load_rulebook,
    order_context,
)

# The daily baseline (DR-*, third-party summaries) for a plain domestic spot order.
DAILY = [
    ("ship.deadline", "DR-1a", "48 h after pay_time"),
    ("ship.presale_min", "DR-1c", "48 h after pay_time"),
    ("ship.presale_max", "DR-1d", "15 d after pay_time"),
    ("ship.modes_allowed", "DR-1f", "deposit_presale;factory_direct;presale;spot;step"),
    ("pickup.limit", "DR-2a", "24 h after ship_time"),
    ("first_hub.limit", "DR-2b", "24 h after pickup_time"),
    ("aftersale.merchant_confirm.limit", "DR-3a", "48 h after aftersale_created"),
    ("aftersale.consumer_return.limit", "DR-3b", "7 d after aftersale_agreed"),
    ("aftersale.merchant_receive.limit", "DR-3c", "7 d after return_shipped"),
    ("aftersale.refund.limit", "DR-3d", "48 h after return_signed"),
    ("receipt.auto_confirm.signed", "DR-4a", "15 d after ship_time"),
    ("receipt.auto_confirm.unsigned", "DR-4b", "18 d after ship_time"),
    ("settlement.delay", "DR-5a", "10 d after receipt_time"),
    ("order.auto_close", "DR-7", "150 d after created_time"),
    ("penalty.late_ship.points_per_order", "DR-6a", "0.1"),
    ("penalty.late_ship.points_cap_day", "DR-6b", "2"),
    ("penalty.late_ship.points_cap_week", "DR-6c", "6"),
    ("penalty.late_ship.deduction_per_order", "DR-6d", "10"),
    ("penalty.late_ship.deduction_max_per_order", "DR-6e", "2"),
    ("penalty.late_ship.deduction_cap_day", "DR-6f", "500"),
    ("penalty.late_ship.ban_after_late_orders", "DR-6g", "2"),
]


@pytest.mark.parametrize(("parameter", "clause", "value"), DAILY)
def test_daily_baseline(parameter: str, clause: str, value: str) -> None:
    from lvyue.rulebook import format_value

    ctx = order(pay_time="2025-03-03 10:00:00", ship_time="2025-03-04 10:00:00",
                aftersale_created="2025-03-10 10:00:00")  # fmt: skip
    answer = load_rulebook().resolve(parameter, ctx)
    assert answer is not None
    assert (answer.clause_id, format_value(answer.value)) == (clause, value)
    assert answer.announcement == "daily-rules" and answer.overridden == ()


def test_established_store_settles_in_four_days() -> None:
    answer = load_rulebook().resolve("settlement.delay", order(flags=("established_store",)))
    assert answer is not None
    assert (answer.clause_id, answer.value, answer.overridden) == (
        "DR-5b",
        Duration(4 * 86400, Clock.RECEIPT_TIME),
        ("DR-5a",),
    )


def test_vf6_excepts_orders_already_penalised() -> None:
    rb = load_rulebook()
    paid = {"pay_time": "2024-02-10 12:00:00", "category": FLOWER}
    plain = rb.resolve("settlement.delay", order(**paid))  # type: ignore[arg-type]
    penalised = rb.resolve(
        "settlement.delay",
        order(flags=("settlement_extended_penalty",), **paid),  # type: ignore[arg-type]
    )
    assert plain is not None and plain.clause_id == "VF-6"
    assert plain.value == Duration(30 * 86400, Clock.RECEIPT_TIME)
    # "(因违规产生延长账期处罚的订单除外)": the penalty's own date, not DR-5a's 10 d
    assert penalised is not None and penalised.clause_id == "VF-6a"
    assert penalised.value == Duration(0, Clock.PENALTY_SETTLEMENT_TIME)


def test_sf4_deadline_is_the_instant_as_written() -> None:
    ctx = order(flags=("delayed_shipping",), pay_time="2023-01-20 08:00:00")
    when, answer = load_rulebook().deadline("ship.deadline", ctx)
    assert answer is not None and answer.clause_id == "SF-4"
    assert answer.value == Instant(datetime(2023, 2, 4, 15, 59, 59, tzinfo=UTC))
    assert when == bj("2023-02-04 23:59:59")
    assert answer.overridden == ("DR-1a",)


def test_ny1_extends_and_vf2_takes_flowers_back_to_48_hours() -> None:
    rb = load_rulebook()
    plain_when, plain = rb.deadline("ship.deadline", order(pay_time="2024-02-10 09:30:00"))
    flower_ctx = order(category=FLOWER, pay_time="2024-02-10 09:30:00")
    flower_when, flower = rb.deadline("ship.deadline", flower_ctx)
    assert plain is not None and plain.clause_id == "NY-1"
    assert plain_when == bj("2024-02-22 23:59:59")
    # VF-2 "与日常一致" cancels NY-1: the daily rule decides, and the verdict cites both
    assert flower is not None and flower.clause_id == "DR-1a" and flower.via == ("VF-2",)
    assert flower.cited == "VF-2;DR-1a" and flower.overridden == ("NY-1",)
    assert flower_when == bj("2024-02-12 09:30:00")
    festival = rb.resolve("ship.deadline", order(flags=("festival_open",), pay_time="2024-02-10"))
    assert festival is not None and festival.clause_id == "DR-1a"


def test_presale_deadline_is_the_promised_time() -> None:
    rb = load_rulebook()
    ctx = order(ship_mode="presale", pay_time="2025-05-01 10:00", promised_ship_time="2025-05-09")
    when, answer = rb.deadline("ship.deadline", ctx)
    assert answer is not None and answer.clause_id == "DR-1b"
    assert when == bj("2025-05-09 00:00:00")
    no_promise = order(ship_mode="step", pay_time="2025-05-01 10:00")
    assert rb.deadline("ship.deadline", no_promise)[0] is None


def test_missing_clock_gives_no_answer_only_where_a_window_needs_it() -> None:
    rb = load_rulebook()
    # SF-6 (domestic) reads ship_time: an unshipped domestic order cannot be decided yet.
    assert rb.resolve("pickup.limit", order()) is None
    # No clause in scope for a cross-border order reads a window: the daily value holds.
    answer = rb.resolve("pickup.limit", order(merchant_type="cross_border"))
    assert answer is not None and answer.clause_id == "DR-2a"
    when, answer = rb.deadline("pickup.limit", order(merchant_type="cross_border"))
    assert when is None and answer is not None  # the anchor (ship_time) is missing


def test_trace_says_why_each_clause_did_not_decide() -> None:
    ctx = order(category=FLOWER, pay_time="2023-01-20 10:00:00")
    reasons = {t.clause_id: t for t in load_rulebook().trace("ship.deadline", ctx)}
    assert reasons["DR-1a"].applies and reasons["DR-1a"].reason == "applies"
    assert reasons["NY-1"].reason == "out of window on clock pay_time"
    assert reasons["SF-4"].reason == "out of scope: flag delayed_shipping is false"
    assert reasons["SF-5"].reason == "out of scope: merchant type domestic"
    assert reasons["DR-1b"].reason == "out of scope: ship mode spot"
    inside = order(category=FLOWER, pay_time="2024-02-10 10:00:00")
    traced = {t.clause_id: t for t in load_rulebook().trace("ship.deadline", inside)}
    assert traced["DR-1a"].overridden_by == () and traced["DR-1a"].reason == "applies"
    assert traced["NY-1"].reason.startswith("cancelled by VF-2")
    assert traced["NY-1"].overridden_by == ("VF-2",)
    assert traced["VF-2"].reason.startswith("applies: cancels NY-1")


def test_naive_means_beijing_and_aware_instants_compare_exactly() -> None:
    rb = load_rulebook()

    def at(moment: datetime) -> str | None:
        ctx = OrderContext(
            MerchantType.DOMESTIC, SHOES, ShipMode.SPOT, clocks={Clock.SHIP_TIME: moment}
        )
        answer = rb.resolve("pickup.limit", ctx)
        return answer.clause_id if answer else None

    assert at(datetime(2023, 1, 13, 15, 59, 59, tzinfo=UTC)) == "DR-2a"
    assert at(datetime(2023, 1, 13, 16, 0, 0, tzinfo=UTC)) == "SF-6"  # 00:00:00 Beijing
    assert at(datetime(2023, 2, 4, 15, 59, 59, 999999, tzinfo=UTC)) == "SF-6"
    assert at(datetime(2023, 2, 4, 16, 0, 0, tzinfo=UTC)) == "DR-2a"


def test_category_key_is_the_deepest_scoped_ancestor() -> None:
    rb = load_rulebook()
    assert rb.category_key(PHONE) == "二手商品>二手3C数码"
    assert rb.category_key(FLOWER) == FLOWER
    assert rb.category_key(SHOES) == ""
    # the major category is scoped by BT-7 (pre-inspection opt-in), so it is a key of its own
    assert rb.category_key("二手商品") == "二手商品"
    assert rb.category_key("二手商品>二手3C数码X") == "二手商品"  # a sibling, not a child


def test_conflicting_draft_raises_naming_both_clauses(tmp_path: Path) -> None:
    rb = load_rulebook([write_draft(tmp_path, CONFLICTING)])
    with pytest.raises(ConflictError) as info:
        rb.resolve("pickup.limit", order(ship_time="2023-02-02 12:00:00"))
    assert set(info.value.clause_ids) == {"SF-6", "X-1"}
    assert "SF-6" in str(info.value) and "X-1" in str(info.value)
    # outside SF-6's window the draft alone governs
    alone = rb.resolve("pickup.limit", order(ship_time="2023-02-08 12:00:00"))
    assert alone is not None and alone.clause_id == "X-1"
    conflicts = rb.check_conflicts()
    assert [(c.parameter, set(c.clause_ids)) for c in conflicts] == [
        ("pickup.limit", {"SF-6", "X-1"})
    ]
    with pytest.raises(ConflictError):
        rb.parameter_table()


def test_shipped_rulebook_has_no_conflict() -> None:
    assert load_rulebook().check_conflicts() == []


def test_revision_governs_conduct_from_its_instant_only(tmp_path: Path) -> None:
    """BT-15: earlier conduct keeps the version then in force."""
    rb = load_rulebook([write_draft(tmp_path, REVISED)])

    def at(moment: str) -> tuple[str, str | None, int]:
        answer = rb.resolve("pickup.limit", order(ship_time=moment))
        assert answer is not None and isinstance(answer.value, Duration)
        return answer.clause_id, answer.revision, answer.value.seconds // 3600

    assert at("2029-12-31 23:59:59") == ("DR-2a", None, 24)
    assert at("2030-05-31 23:59:59") == ("R-1", None, 36)
    assert at("2030-06-01 00:00:00") == ("R-1", "r2", 30)
    assert at("2030-08-31 23:59:59") == ("R-1", "r2", 30)
    assert at("2030-09-01 00:00:00") == ("DR-2a", None, 24)  # withdrawn by r3
    traced = {
        (t.clause_id, t.revision): t.reason
        for t in rb.trace("pickup.limit", order(ship_time="2030-07-01"))
    }
    assert traced[("R-1", None)] == "superseded version"
    assert traced[("R-1", "r2")] == "applies"
    assert rb.clause("R-1").revision == "r2"
    assert [v.revision for v in rb.clause_versions("R-1")] == [None, "r2"]


def test_order_context_reads_facts_format_names() -> None:
    ctx = order_context(
        {
            "merchant_type": "cross_border",
            "category": FLOWER,
            "ship_mode": "presale",
            "festival_open": "yes",
            "flags": ["delayed_shipping"],
            "pay_time": "2024-02-10 10:00:00",
            "confirmed_receipt_time": "2024-02-20T02:00:00+00:00",
            "return_signed_at": "2024-02-25 08:00:00",
            "ship_time": "",
        }
    )
    assert ctx.flags == frozenset({"festival_open", "delayed_shipping"})
    assert ctx.clocks == {
        Clock.PAY_TIME: bj("2024-02-10 10:00:00"),
        Clock.RECEIPT_TIME: datetime(2024, 2, 20, 2, tzinfo=UTC),
        Clock.RETURN_SIGNED: datetime(2024, 2, 25, 0, tzinfo=UTC),
    }
    for bad, field in [
        ({"merchant_type": "mars"}, "mars"),
        ({"flags": ["nope"]}, "nope"),
        ({"pay_time": "yesterday"}, "pay_time"),
        ({"festival_open": "maybe"}, "festival_open"),
    ]:
        with pytest.raises(ValueError, match=field):
            order_context(bad)


def test_resolving_an_unknown_parameter_is_an_error() -> None:
    with pytest.raises(KeyError):
        load_rulebook().resolve("ship.nonsense", order())


def test_answers_for_inspection_follow_btas_effective_date() -> None:
    rb = load_rulebook()
    for leaf in (
        "二手商品>二手奢侈品>包",
        "二手商品>二手潮品鞋服>鞋",
        PHONE,
        "二手商品>二手百货>杯",
    ):
        answer = rb.resolve("inspection.required", order(category=leaf, ship_time="2024-01-01"))
        assert answer is not None and answer.value is True and answer.clause_id == "BT-1"
    assert rb.resolve("inspection.required", order(category=SHOES, ship_time="2024-01-01")) is None


def test_a_draft_may_add_category_levels(tmp_path: Path) -> None:
    text = CONFLICTING.replace("merchant_type: [domestic]", "category: [二手商品>二手汽车]")
    draft = write_draft(tmp_path, text)
    (tmp_path / "categories.yaml").write_text("二手商品:\n  二手汽车: {}\n", encoding="utf-8")
    rb = load_rulebook([draft])
    assert rb.category_key("二手商品>二手汽车>轿车") == "二手商品>二手汽车"
    car = order(category="二手商品>二手汽车>轿车", ship_time="2023-02-08 12:00:00")
    answer = rb.resolve("pickup.limit", car)
    assert answer is not None and answer.clause_id == "X-1"


def test_a_window_ending_on_a_date_covers_that_whole_day(tmp_path: Path) -> None:
    text = CONFLICTING.replace(
        "[2023-02-01 00:00:00, 2023-02-10 23:59:59]", "[2030-02-01, '2030-02-10']"
    )
    rb = load_rulebook([write_draft(tmp_path, text)])
    inside = rb.resolve("pickup.limit", order(ship_time="2030-02-10 23:59:59"))
    outside = rb.resolve("pickup.limit", order(ship_time="2030-02-11 00:00:00"))
    assert inside is not None and inside.clause_id == "X-1"
    assert outside is not None and outside.clause_id == "DR-2a"


def test_diff_names_every_answer_a_draft_changes(tmp_path: Path) -> None:
    from tests.rulebook.drafts import EXTENDING

    shipped = load_rulebook()
    draft = load_rulebook([write_draft(tmp_path, EXTENDING)])
    changes = {(c.parameter, c.before, c.after) for c in shipped.diff(draft)}
    assert changes == {
        ("pickup.limit", "SF-6 = 48 h after ship_time", "X-1 = 3 d after ship_time"),
        ("pickup.limit", "DR-2a = 24 h after ship_time", "X-1 = 3 d after ship_time"),
    }
    assert shipped.diff(shipped) == []
