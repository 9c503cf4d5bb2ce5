"""Issue 10 rule-fidelity readings of the rulebook itself: scope (SF-7), honest citations
(NY-1/NY-2 source kind, SF-2/SF-11 whole sentences, every seed clause found in its seed)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from tests.rulebook.helpers import order

from lvyue.rulebook import load_rulebook
from lvyue.rulebook.schema import SourceKind

# The seed texts live beside the checkout (../shared/seeds), as on a developer's machine and in
# CI; LVYUE_SEEDS points elsewhere. Missing seeds fail the test: a citation check never skips.
_BESIDE = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEEDS = Path(
    os.environ.get("LVYUE_SEEDS")
    or next((p for p in (_BESIDE, Path("/work/shared/seeds")) if p.is_dir()), _BESIDE)
)


@pytest.mark.parametrize("merchant_type", ["domestic", "cross_border", "instant_retail"])
def test_sf7_applies_to_every_merchant_type_in_the_window(merchant_type: str) -> None:
    rb = load_rulebook()
    inside = rb.resolve("first_hub.limit", order(merchant_type, ship_time="2023-02-04 23:59:59"))
    after = rb.resolve("first_hub.limit", order(merchant_type, ship_time="2023-02-05 00:00:00"))
    assert inside is not None and inside.clause_id == "SF-7"
    assert after is not None and after.clause_id == "DR-2b"


def test_sf6_pickup_stays_domestic_only() -> None:
    rb = load_rulebook()
    answer = rb.resolve("pickup.limit", order("cross_border", ship_time="2023-02-01 10:00:00"))
    assert answer is not None and answer.clause_id == "DR-2a"  # "(仅限国内商家)"


def test_new_year_clauses_say_they_are_a_third_party_reading() -> None:
    rb = load_rulebook()
    ny = next(a for a in rb.announcements if a.id == "new-year-2024")
    assert ny.source_kind is SourceKind.THIRD_PARTY_SUMMARY and ny.partial
    for cid in ("NY-1", "NY-2"):
        assert rb.clause(cid).source.startswith("（第三方解读，原文未收录）")


def _flat(text: str) -> str:
    """Whitespace-free, so a quote copied across line breaks still matches."""
    return re.sub(r"\s+", "", text)


def test_every_seed_clause_quotes_its_seed_and_sf2_sf11_whole_sentences() -> None:
    rb = load_rulebook()
    assert SEEDS.is_dir(), f"seed texts not found at {SEEDS} (set LVYUE_SEEDS)"
    seeds = {p.name: _flat(p.read_text("utf-8")) for p in SEEDS.glob("*.txt")}
    for a in rb.announcements:
        if a.source_kind is not SourceKind.SEED:
            continue
        seed = seeds[a.source_ref.split("/")[-1].split()[0]]
        for cid in a.clause_ids:
            assert _flat(rb.clause(cid).source) in seed, cid
    sf2 = rb.clause("SF-2").source
    assert sf2.startswith("春节期间,小店平台商家和全球购平台商家") and sf2.endswith("为准。")
    sf11 = rb.clause("SF-11").source
    assert "达人服务" in sf11 and sf11.endswith("热线咨询时间不变:8点-24点")


# A rulebook of its own: a daily rule (revised later), a festival extension, and a category
# clause that says "与日常一致" (as every day) by cancelling the extension.
_CANCEL_BOOK = """
announcement: t-daily
title: daily
source: {kind: operator default, ref: test}
clauses:
  - id: D-1
    parameter: ship.deadline
    value: {hours: 48, after: pay_time}
    source: "daily"
revisions:
  - label: r2
    at: 2024-02-10 00:00:00
    clauses:
      - id: D-1
        parameter: ship.deadline
        value: {hours: 72, after: pay_time}
        source: "daily, corrected"
---
announcement: t-festival
title: festival
source: {kind: operator default, ref: test}
clauses:
  - id: F-1
    parameter: ship.deadline
    value: 2024-02-22 23:59:59
    window: [2024-02-02 00:00:00, 2024-02-20 23:59:59]
    exception_to: [D-1]
    source: "festival"
  - id: C-1
    parameter: ship.deadline
    cancels: [F-1]
    window: [2024-02-08 00:00:00, 2024-02-14 23:59:59]
    scope: {merchant_type: [domestic], ship_mode: [spot]}
    source: "与日常一致"
"""


def _cancel_book(tmp_path: Path) -> object:
    for i, text in enumerate(_CANCEL_BOOK.split("---")):
        (tmp_path / f"a{i}.yaml").write_text(text, encoding="utf-8")
    return load_rulebook(extra_dirs=[tmp_path], include_shipped=False)


def test_cancel_follows_the_daily_rule_as_corrected_and_never_conflicts(tmp_path: Path) -> None:
    rb = _cancel_book(tmp_path)
    assert rb.check_conflicts() == []  # type: ignore[attr-defined]
    before = rb.resolve("ship.deadline", order(pay_time="2024-02-09 23:59:59"))  # type: ignore[attr-defined]
    after = rb.resolve("ship.deadline", order(pay_time="2024-02-10 00:00:00"))  # type: ignore[attr-defined]
    assert before.cited == "C-1;D-1" and before.value.seconds == 48 * 3600
    assert after.cited == "C-1;D-1@r2" and after.value.seconds == 72 * 3600  # corrected with it
    assert after.revision == "r2" and after.overridden == ("F-1",)
    outside = rb.resolve("ship.deadline", order(pay_time="2024-02-15 00:00:00"))  # type: ignore[attr-defined]
    assert outside.clause_id == "F-1" and outside.via == ()  # the extension is back
    other = rb.resolve("ship.deadline", order("cross_border", pay_time="2024-02-12"))  # type: ignore[attr-defined]
    assert other.clause_id == "F-1"  # out of C-1's scope


def test_vf2_cancels_ny1_so_the_daily_rule_decides_flowers() -> None:
    rb = load_rulebook()
    vf2 = rb.clause("VF-2")
    assert vf2.value is None and vf2.cancels == ("NY-1",)
    flowers = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
    inside = rb.resolve("ship.deadline", order(category=flowers, pay_time="2024-02-14 23:59:59"))
    after = rb.resolve("ship.deadline", order(category=flowers, pay_time="2024-02-15 00:00:00"))
    assert inside is not None and inside.cited == "VF-2;DR-1a"
    assert after is not None and after.cited == "NY-1"


@pytest.mark.parametrize(
    ("clause", "problem"),
    [
        ("{id: C-2, parameter: ship.deadline, cancels: [Z-9], source: s}", "no clause Z-9"),
        ("{id: C-2, parameter: pickup.limit, cancels: [F-1], source: s}", "sets ship.deadline"),
        (
            "{id: C-2, parameter: ship.deadline, cancels: [F-1], value: {hours: 1}, source: s}",
            "a clause that cancels has none",
        ),
    ],
)
def test_bad_cancels_are_one_line_errors(tmp_path: Path, clause: str, problem: str) -> None:
    from lvyue.rulebook import RulebookError

    text = _CANCEL_BOOK.split("---")[1] + f"  - {clause}\n"
    (tmp_path / "a.yaml").write_text(_CANCEL_BOOK.split("---")[0], encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError, match=problem):
        load_rulebook(extra_dirs=[tmp_path], include_shipped=False)


BOOKS = "二手商品>二手图书"  # a second-hand category the seed does not name
_DESIGNATION = """
announcement: t-designation
title: 指定类目（测试）
source: {kind: operator data, ref: test}
clauses:
  - id: BT-1x
    parameter: inspection.required
    value: true
    clock: ship_time
    window: [2025-01-01 00:00:00, null]
    scope: {category: [二手商品>二手图书]}
    source: "运营指定：二手图书自2025-01-01起需Btas质检"
"""


def test_bt1_is_operator_designation_data_seeded_with_four_subtrees() -> None:
    rb = load_rulebook()
    bt1 = rb.clause("BT-1")
    designation = next(a for a in rb.announcements if a.id == bt1.announcement)
    assert designation.source_kind is SourceKind.OPERATOR_DATA
    assert bt1.scope.categories is not None and len(bt1.scope.categories) == 4
    phone = rb.resolve("inspection.required", order(category="二手商品>二手3C数码>手机",
                                                     ship_time="2022-02-23 00:00:00"))  # fmt: skip
    assert phone is not None and phone.clause_id == "BT-1" and phone.value is True
    before = rb.resolve("inspection.required", order(category="二手商品>二手3C数码>手机",
                                                     ship_time="2022-02-22 23:59:59"))  # fmt: skip
    assert before is None


def test_an_undesignated_category_needs_inspection_only_when_the_product_opted_in() -> None:
    rb = load_rulebook()
    plain = rb.resolve("inspection.required", order(category=BOOKS, ship_time="2024-03-01"))
    opted = rb.resolve(
        "inspection.required",
        order(category=BOOKS, flags=("pre_inspection",), ship_time="2024-03-01"),
    )
    food = rb.resolve("inspection.required",
                      order(category="食品饮料>零食", flags=("pre_inspection",),
                            ship_time="2024-03-01"))  # fmt: skip
    assert plain is None  # not designated, not opted in: no BTAS duty
    assert opted is not None and opted.clause_id == "BT-7" and opted.value is True
    assert food is None  # pre-inspection is a second-hand listing mode


def test_an_operator_designation_is_effective_dated(tmp_path: Path) -> None:
    (tmp_path / "designation.yaml").write_text(_DESIGNATION, encoding="utf-8")
    (tmp_path / "categories.yaml").write_text("二手商品:\n  二手图书: {}\n", encoding="utf-8")
    rb = load_rulebook(extra_dirs=[tmp_path])
    assert rb.check_conflicts() == []
    last = rb.resolve("inspection.required", order(category=BOOKS + ">小说",
                                                   ship_time="2024-12-31 23:59:59"))  # fmt: skip
    first = rb.resolve("inspection.required", order(category=BOOKS + ">小说",
                                                    ship_time="2025-01-01 00:00:00"))  # fmt: skip
    assert last is None
    assert first is not None and first.clause_id == "BT-1x"


def test_dr7_counts_from_the_order_submission_not_the_payment() -> None:
    """DR-7 "订单提交150天后仍未发货且未退款的，订单自动关闭": 150 days from 订单提交
    (created_time); the payment does not move it, and no submission time means no date."""
    from tests.rulebook.helpers import bj, order

    rb = load_rulebook()
    placed = order(created_time="2025-01-01 10:00:00", pay_time="2025-01-03 10:00:00")
    when, answer = rb.deadline("order.auto_close", placed)
    assert answer is not None and answer.clause_id == "DR-7"
    assert when == bj("2025-05-31 10:00:00")  # 2025-01-01 10:00 + 150 d, not from 01-03
    assert rb.deadline("order.auto_close", order(pay_time="2025-01-03 10:00:00"))[0] is None
