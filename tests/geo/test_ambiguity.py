"""A district name several cities share is never placed silently (issue 15)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.geo import AmbiguousAddressError, parse_address

runner = CliRunner()


@pytest.mark.parametrize(
    ("address", "cities"),
    [
        ("南山区科技园深南大道9988号", {"深圳市", "鹤岗市"}),
        ("鼓楼区中山路1号", {"南京市", "徐州市", "福州市", "开封市"}),
        ("朝阳区建国路", {"北京市", "长春市"}),
        ("江苏鼓楼区", {"南京市", "徐州市"}),  # the province narrows, two cities remain
    ],
)
def test_shared_district_without_context_lists_candidates(address: str, cities: set[str]) -> None:
    with pytest.raises(AmbiguousAddressError) as caught:
        parse_address(address)
    assert {c.city for c in caught.value.candidates} == cities


@pytest.mark.parametrize(
    ("address", "context", "code"),
    [
        ("深圳南山区科技园", {}, "440305"),
        ("广东省深圳市南山区", {}, "440305"),
        ("鹤岗南山区", {}, "230404"),
        ("鼓楼区中山路1号 南京", {}, "320106"),  # a city name elsewhere in the string
        ("徐州市鼓楼区", {}, "320302"),
        ("南山区科技园", {"postcode": "518057"}, "440305"),  # 51xxxx is 广东
        ("南山区科技园", {"postcode": "154100"}, "230404"),  # 15xxxx is 黑龙江
        ("518057 南山区科技园", {}, "440305"),  # the postcode inside the address
        ("鼓楼区中山路1号", {"phone": "0591-87654321"}, "350102"),
        ("鼓楼区中山路1号", {"phone": "025 8765 4321".replace(" ", "")}, "320106"),
        ("鼓楼区中山路1号 电话0378-2345678", {}, "410204"),
        ("海淀区中关村", {}, "110108"),  # a district name only one city has
    ],
)
def test_context_places_a_shared_district(address: str, context: dict[str, str], code: str) -> None:
    parsed = parse_address(address, **context)
    assert parsed.district_code == code


def test_context_that_does_not_decide_stays_ambiguous() -> None:
    with pytest.raises(AmbiguousAddressError) as caught:
        parse_address("鼓楼区中山路1号", postcode="210000")  # 江苏: 南京 or 徐州
    assert {c.city for c in caught.value.candidates} == {"南京市", "徐州市"}
    with pytest.raises(AmbiguousAddressError):
        parse_address("鼓楼区中山路1号", phone="13912345678")  # a mobile names no city


def test_region_parse_cli_prints_candidates_and_exits_1() -> None:
    out = runner.invoke(app, ["region", "parse", "南山区科技园深南大道9988号"])
    assert out.exit_code == 1
    assert "深圳市" in out.output and "鹤岗市" in out.output and "ambiguous" in out.output
    out = runner.invoke(app, ["region", "parse", "鼓楼区中山路1号", "--json"])
    found = json.loads(out.output)
    assert out.exit_code == 1 and found["ambiguous"] is True and len(found["candidates"]) == 4
    out = runner.invoke(app, ["region", "parse", "南山区科技园", "--postcode", "518057", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["city"] == "深圳市"
    out = runner.invoke(app, ["region", "parse", "火星基地1号"])
    assert out.exit_code == 2
