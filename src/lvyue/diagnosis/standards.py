"""Per-lane transit standard (时效标准): natural days from pickup to signature, as data."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import ibis
import ibis.expr.types as ir
import yaml


@cache
def standards_data() -> dict[str, Any]:
    text = resources.files("lvyue.diagnosis.data").joinpath("transit_standards.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def transit_standard_days(
    origin_province: ir.StringValue,
    origin_city: ir.StringValue,
    dest_province: ir.StringValue,
    dest_city: ir.StringValue,
) -> ir.IntegerValue:
    """The lane's standard as an Ibis expression (null when the lane is unknown)."""
    data = standards_data()
    remote = data["remote_provinces"]
    is_remote = ibis.literal(False)
    for name in remote["names"]:
        is_remote = is_remote | dest_province.startswith(name) | origin_province.startswith(name)
    known = origin_province.notnull() & dest_province.notnull()
    days: ir.IntegerValue = ibis.cases(
        (~known, ibis.null("int64")),
        (origin_city.notnull() & (origin_city == dest_city), int(data["same_city"])),
        (origin_province == dest_province, int(data["same_province"])),
        (is_remote, int(remote["days"])),
        else_=int(data["default"]),
    )
    return days


def standard_for(origin_province: str, origin_city: str, dest_province: str, dest_city: str) -> int:
    """The same rule for one lane, in Python (for suggestions and documentation)."""
    data = standards_data()
    if origin_city and origin_city == dest_city:
        return int(data["same_city"])
    if origin_province == dest_province:
        return int(data["same_province"])
    names = data["remote_provinces"]["names"]
    if any(p.startswith(n) for n in names for p in (origin_province, dest_province)):
        return int(data["remote_provinces"]["days"])
    return int(data["default"])
