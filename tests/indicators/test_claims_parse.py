"""The phrase table (model/claims.yaml) read from promotion texts, and each claim's
deadline at both sides of its edge."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lvyue.model.claims import deadline, end_of_pay_day, parse_claims

PUBLISHED = datetime(2024, 2, 1, tzinfo=UTC)
PAY = int(datetime(2024, 2, 9, 2, 0, tzinfo=UTC).timestamp())  # 10:00 Beijing
LAST_SECOND_OF_DAY = int(datetime(2024, 2, 9, 15, 59, 59, tzinfo=UTC).timestamp())


def kinds(text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.phrase) for c in parse_claims(text, PUBLISHED)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("红玫瑰 当日达", [("same_day", "当日达")]),
        ("顺丰次日达，包邮", [("next_day", "次日达")]),
        ("下单后48小时内发货", [("ship_within", "48小时内发货")]),
        (
            "24h发货 2月14日前包邮到家",
            [("ship_within", "24h发货"), ("by_date", "2月14日前包邮到家")],
        ),
        ("情人节当天送达！", [("valentines_day", "情人节当天送达")]),
        ("2月14日当天送达", [("by_date", "2月14日当天送达")]),  # one claim, not also 当天送达
        ("现货 顺丰包邮", []),
        ("包邮到家", []),  # no date: nothing checkable
        ("2月30日前送达", []),  # no such date
    ],
)
def test_phrases(text: str, found: list[tuple[str, str]]) -> None:
    assert kinds(text) == found


def test_a_date_already_past_is_next_years() -> None:
    late = datetime(2024, 3, 1, tzinfo=UTC)
    (claim,) = parse_claims("2月14日前送达", late)
    assert datetime.fromtimestamp(claim.offset_s, UTC) == datetime(
        2025, 2, 14, 15, 59, 59, tzinfo=UTC
    )


def test_deadlines_at_their_edges() -> None:
    same_day, next_day, hours, by_date = (
        parse_claims(t, PUBLISHED)[0] for t in ("当日达", "次日达", "48小时内发货", "2月14日前送达")
    )
    assert end_of_pay_day(PAY) == LAST_SECOND_OF_DAY
    assert end_of_pay_day(LAST_SECOND_OF_DAY) == LAST_SECOND_OF_DAY
    assert end_of_pay_day(LAST_SECOND_OF_DAY + 1) == LAST_SECOND_OF_DAY + 86_400

    def due(c: object) -> int:
        return int(deadline(PAY, c.pay_weight, c.day_weight, c.offset_s))  # type: ignore[attr-defined]

    assert due(same_day) == LAST_SECOND_OF_DAY
    assert due(next_day) == LAST_SECOND_OF_DAY + 86_400
    assert due(hours) == PAY + 48 * 3600
    assert due(by_date) == int(datetime(2024, 2, 14, 15, 59, 59, tzinfo=UTC).timestamp())


def test_one_formula_on_numpy() -> None:
    (claim,) = parse_claims("次日达", PUBLISHED)
    pays = np.array([PAY, LAST_SECOND_OF_DAY + 1], np.int64)
    got = deadline(pays, claim.pay_weight, claim.day_weight, claim.offset_s)
    assert got.tolist() == [LAST_SECOND_OF_DAY + 86_400, LAST_SECOND_OF_DAY + 2 * 86_400]
