"""Kuaidi100 push: decode a realistic saved push, verify signatures, encode and decode back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from lvyue.model import TrackingEvent, TrackingKind, parse_instant
from lvyue.tracking import (
    ACK,
    PushError,
    SignatureError,
    decode_push,
    encode_push,
    read_push_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
SALT = "lvyue-test-salt"


def test_ack_is_what_kuaidi100_expects() -> None:
    assert json.dumps(ACK, ensure_ascii=False) == (
        '{"result": true, "returnCode": "200", "message": "成功"}'
    )


def test_decode_saved_form_push() -> None:
    update = decode_push(read_push_file(FIXTURES / "push_zhongtong.form"), salt=SALT)
    assert (update.status, update.carrier, update.waybill) == (
        "shutdown",
        "zhongtong",
        "78316542219876",
    )
    assert update.state == "3"
    assert update.ischeck
    kinds = [e.kind.value for e in update.events]
    assert kinds == [
        "pickup",
        "in_transit",  # left the 文三路 outlet: not a sorting centre
        "hub_arrival",
        "hub_departure",
        "hub_arrival",
        "hub_departure",
        "in_transit",
        "out_for_delivery",
        "out_for_delivery",
        "signed",
    ]
    first = update.events[0]
    assert first.time == parse_instant("2024-02-09 16:03:55")
    assert first.time.utcoffset() == timedelta(0)
    assert first.location == "浙江,杭州市,西湖区"
    assert "已揽收" in first.text


def test_json_saved_push_decodes_without_salt() -> None:
    update = decode_push(read_push_file(FIXTURES / "push_zhongtong.json"))
    assert len(update.events) == 10


def test_bad_or_missing_signature_is_rejected() -> None:
    form = read_push_file(FIXTURES / "push_zhongtong.form")
    with pytest.raises(SignatureError, match="sign"):
        decode_push(form, salt="another-salt")
    with pytest.raises(SignatureError, match="sign"):
        decode_push({"param": form["param"]}, salt=SALT)
    tampered = {
        "param": form["param"].replace("78316542219876", "78316542219877"),
        "sign": form["sign"],
    }
    with pytest.raises(SignatureError):
        decode_push(tampered, salt=SALT)


def _event(when: str, kind: TrackingKind, text: str) -> TrackingEvent:
    return TrackingEvent("yunda", "4312345678901", parse_instant(when), kind, "杭州市", text)


_K = TrackingKind
EVENTS = [
    _event("2023-01-20 18:00:00", _K.PICKUP, "【浙江杭州市余杭区仓前公司】揽件员已揽收"),
    _event("2023-01-20 22:10:00", _K.HUB_ARRIVAL, "【浙江杭州分拨中心】进行卸车扫描"),
    _event("2023-01-21 01:30:00", _K.HUB_DEPARTURE, "【浙江杭州分拨中心】进行装车扫描，发往上海"),
    _event("2023-01-21 03:00:00", _K.IN_TRANSIT, "运输中"),
    _event("2023-01-21 09:00:00", _K.OUT_FOR_DELIVERY, "【上海市浦东新区张江公司】进行派件扫描"),
    _event("2023-01-21 15:00:00", _K.SIGNED, "已签收，签收人：本人"),
]


@pytest.mark.parametrize("salt", [None, "s3cret"])
def test_encode_then_decode_gives_back_the_events(salt: str | None) -> None:
    form = encode_push("yunda", "4312345678901", reversed(EVENTS), salt=salt)
    assert ("sign" in form) == (salt is not None)
    param = json.loads(form["param"])
    data = param["lastResult"]["data"]
    assert data[0]["ftime"] == "2023-01-21 15:00:00"  # newest first, Beijing time
    assert param["lastResult"]["ischeck"] == "1"
    assert param["status"] == "shutdown"
    update = decode_push(form, salt=salt)
    assert update.events == tuple(EVENTS)


def test_encode_in_flight_parcel_is_polling() -> None:
    param = json.loads(encode_push("yunda", "4312345678901", EVENTS[:3])["param"])
    assert param["status"] == "polling"
    assert param["lastResult"]["ischeck"] == "0"
    assert param["lastResult"]["state"] == "0"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("lastResult"), "param.lastResult"),
        (lambda p: p.update(status="bogus"), "param.status"),
        (lambda p: p["lastResult"].update(com="nosuch"), "param.lastResult.com"),
        (lambda p: p["lastResult"].pop("nu"), "param.lastResult.nu"),
        (lambda p: p["lastResult"]["data"][1].update(ftime="x", time=""), r"data\[1\].time"),
        (lambda p: p["lastResult"]["data"][0].update(statusCode="9", status="?"), "statusCode"),
        (lambda p: p["lastResult"].update(data={}), "param.lastResult.data"),
    ],
)  # fmt: skip
def test_malformed_payload_names_the_field(mutate: object, field: str) -> None:
    param = json.loads(encode_push("yunda", "4312345678901", EVENTS)["param"])
    mutate(param)  # type: ignore[operator]
    with pytest.raises(PushError, match=field):
        decode_push({"param": json.dumps(param, ensure_ascii=False)})


def test_not_json_is_rejected() -> None:
    with pytest.raises(PushError, match="param: not JSON"):
        decode_push({"param": "{oops"})
    with pytest.raises(PushError, match="param: missing"):
        decode_push({})


def test_read_push_file_accepts_bare_param(tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    path.write_text(encode_push("yunda", "4312345678901", EVENTS)["param"], encoding="utf-8")
    assert decode_push(read_push_file(path)).events == tuple(EVENTS)
    (tmp_path / "junk.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(PushError, match=r"junk.txt"):
        read_push_file(tmp_path / "junk.txt")
