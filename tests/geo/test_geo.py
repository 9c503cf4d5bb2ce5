"""Administrative divisions and the address parser."""

from __future__ import annotations

import pytest

from lvyue.geo import (
    AddressError,
    City,
    cities,
    division,
    divisions,
    parse_address,
    parse_addresses,
)


def test_divisions_cover_the_country_with_gbt2260_codes() -> None:
    provinces = divisions()
    assert len(provinces) == 34
    names = {p.name for p in provinces}
    assert {"北京市", "新疆维吾尔自治区", "广东省", "台湾省", "香港特别行政区"} <= names
    guangdong = next(p for p in provinces if p.code == "440000")
    shenzhen = next(c for c in guangdong.cities if c.name == "深圳市")
    assert shenzhen.code == "440300"
    assert {d.name for d in shenzhen.districts} >= {"南山区", "福田区", "龙华区", "光明区"}
    assert all(d.code[:4] == "4403" for d in shenzhen.districts)


def test_data_is_current() -> None:
    assert division("540600").name == "那曲市"  # 那曲地区 became a city in 2017
    assert division("330113").name == "临平区"  # created 2021


def test_cities_lists_prefecture_level_cities_with_province() -> None:
    listed = cities()
    by_code = {c.code: c for c in listed}
    assert by_code["330100"].name == "杭州市"
    assert by_code["330100"].province == "浙江省"
    assert by_code["330100"].latitude is not None
    assert by_code["429004"].direct  # 仙桃市, administered by the province
    assert all(c.mainland for c in listed)
    assert len(listed) > 330
    assert len(cities(mainland_only=False)) > len(listed)
    assert len({c.code for c in listed}) == len(listed)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        # municipalities
        ("北京市朝阳区建国路88号SOHO现代城", ("北京市", "北京市", "朝阳区", "110105")),
        ("上海浦东新区张江高科技园区博云路2号", ("上海市", "上海市", "浦东新区", "310115")),
        ("重庆市万州区高笋塘", ("重庆市", "重庆市", "万州区", "500101")),
        # autonomous regions
        (
            "新疆维吾尔自治区阿勒泰地区布尔津县友谊路1号",
            ("新疆维吾尔自治区", "阿勒泰地区", "布尔津县", "654321"),
        ),
        ("广西壮族自治区南宁市青秀区民族大道", ("广西壮族自治区", "南宁市", "青秀区", "450103")),
        ("内蒙古呼和浩特市赛罕区", ("内蒙古自治区", "呼和浩特市", "赛罕区", "150105")),
        # abbreviations
        ("广东深圳南山区科技园", ("广东省", "深圳市", "南山区", "440305")),
        ("浙江杭州临平区南苑街道", ("浙江省", "杭州市", "临平区", "330113")),
        # county-level cities
        ("江苏省苏州市昆山市玉山镇前进路", ("江苏省", "苏州市", "昆山市", "320583")),
        ("浙江省金华市义乌市稠城街道", ("浙江省", "金华市", "义乌市", "330782")),
        ("湖北省仙桃市干河街道", ("湖北省", "仙桃市", "仙桃市", "429004")),
        # a district name shared by several cities is placed under the city given
        ("吉林省长春市朝阳区人民大街", ("吉林省", "长春市", "朝阳区", "220104")),
    ],
)
def test_parse_address(address: str, expected: tuple[str, str, str, str]) -> None:
    parsed = parse_address(address)
    assert (parsed.province, parsed.city, parsed.district, parsed.district_code) == expected
    assert parsed.province_code == expected[3][:2] + "0000"
    assert parsed.city_code in (expected[3][:4] + "00", expected[3])


def test_rest_is_what_follows_the_district() -> None:
    assert parse_address("北京市朝阳区建国路88号SOHO现代城").rest == "建国路88号SOHO现代城"
    assert parse_address("广东深圳南山区 科技园").rest == "科技园"
    assert parse_address("内蒙古呼和浩特市赛罕区").rest == ""


def test_city_without_districts() -> None:
    parsed = parse_address("广东省东莞市南城街道鸿福路")
    assert (parsed.city, parsed.city_code, parsed.district) == ("东莞市", "441900", None)


@pytest.mark.parametrize(
    ("address", "part"),
    [
        ("火星基地一号楼", "province"),
        ("", "province"),
        ("浙江省杭州市", "district"),
        ("北京市", "district"),
        ("浙江省南山区", "city"),
    ],
)
def test_failing_address_names_the_part(address: str, part: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_address(address)
    assert caught.value.part == part
    assert str(caught.value).startswith(f"{part}:")


def test_batch_parsing_matches_single() -> None:
    addresses = ["广东深圳南山区科技园", "北京市朝阳区建国路88号"] * 50
    batch = parse_addresses(addresses)
    assert batch[0] == parse_address(addresses[0])
    assert batch[-1].district == "朝阳区"


def test_city_is_a_value_object() -> None:
    hangzhou = division("330100")
    assert isinstance(hangzhou, City)
    assert hangzhou.province_code == "330000"


@pytest.mark.parametrize(
    ("address", "district_code", "rest"),
    [
        ("新疆阿勒泰布尔津县友谊路", "654321", "友谊路"),  # not 阿勒泰市 + rest 布尔津县…
        ("新疆阿勒泰市解放路", "654301", "解放路"),
        ("吉林长春朝阳区人民大街", "220104", "人民大街"),  # 吉林 the province, not 吉林市
        ("吉林市船营区北京路", "220204", "北京路"),
        ("吉林吉林市船营区", "220204", ""),
        ("北京朝阳区建国路", "110105", "建国路"),
    ],
)
def test_abbreviations_that_are_also_city_names(
    address: str, district_code: str, rest: str
) -> None:
    parsed = parse_address(address)
    assert (parsed.district_code, parsed.rest) == (district_code, rest)
