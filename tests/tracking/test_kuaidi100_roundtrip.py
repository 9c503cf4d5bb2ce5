"""Property: any sequence of canonical events survives encode_push → decode_push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from lvyue.model import TrackingEvent, TrackingKind
from lvyue.tracking import CARRIERS, decode_push, encode_push

# Transit kinds travel as 干线 scans, so their text must say what they are; every other
# kind travels with its own status code and any text.
_TEXTS = {
    TrackingKind.HUB_ARRIVAL: st.sampled_from(["快件到达【杭州转运中心】", "到达【上海分拨中心】"]),
    TrackingKind.HUB_DEPARTURE: st.sampled_from(
        ["快件离开【杭州转运中心】", "【广州集散中心】已发出"]
    ),
    TrackingKind.IN_TRANSIT: st.sampled_from(["运输中", "快件已到达【杭州西湖营业部】", ""]),
    TrackingKind.WAREHOUSE_IN: st.sampled_from(["【日本东京集货仓】包裹已入库", "海外仓已入库"]),
}
_ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_START = datetime(2023, 1, 1, tzinfo=UTC)


@st.composite
def _event(draw: st.DrawFn, carrier: str, waybill: str) -> TrackingEvent:
    kind = draw(st.sampled_from(list(TrackingKind)))
    seconds = draw(st.integers(min_value=0, max_value=400 * 86400))
    return TrackingEvent(
        carrier=carrier,
        waybill=waybill,
        time=_START + timedelta(seconds=seconds),
        kind=kind,
        location=draw(st.sampled_from(["", "杭州市", "浙江,杭州市,西湖区"])),
        text=draw(_TEXTS.get(kind, _ANY_TEXT)),
    )


@st.composite
def _parcel(draw: st.DrawFn) -> tuple[str, str, list[TrackingEvent]]:
    carrier = draw(st.sampled_from(sorted(CARRIERS)))
    waybill = draw(st.from_regex(r"[A-Z0-9]{8,15}", fullmatch=True))
    events = draw(st.lists(_event(carrier, waybill), max_size=12))
    return carrier, waybill, sorted(events, key=lambda e: e.time)


@settings(max_examples=60, deadline=None)
@given(_parcel(), st.one_of(st.none(), st.text(max_size=12)))
def test_round_trip(parcel: tuple[str, str, list[TrackingEvent]], salt: str | None) -> None:
    carrier, waybill, events = parcel
    update = decode_push(encode_push(carrier, waybill, events, salt=salt), salt=salt)
    assert (update.carrier, update.waybill) == (carrier, waybill)
    assert update.events == tuple(events)
