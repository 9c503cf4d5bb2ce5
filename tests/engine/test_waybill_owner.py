"""A (carrier, waybill) is one parcel: its scans credit only the order that shipped it first,
on both engine paths (issue 12 item 2). An order shipped with another's waybill gets no
pickup from it, so at the deadline it is violated as missed (虚假发货)."""

from __future__ import annotations

from tests.engine.conftest import Evaluate, order, scan

AS_OF = "2024-06-01 00:00:00"


def test_scans_credit_only_the_first_shipment_of_a_waybill(evaluate: Evaluate) -> None:
    v = evaluate(
        AS_OF,
        orders=[
            order("owner", "2024-03-01 10:00:00", ship_time="2024-03-01 12:00:00"),
            order(  # another merchant's order claiming the same parcel, one second later
                "reuse",
                "2024-03-01 10:00:00",
                merchant_id="m2",
                ship_time="2024-03-01 12:00:01",
                waybill="W-owner",
            ),
            order(  # shipped before the owner's parcel existed: it is the first shipment
                "earlier",
                "2024-03-01 09:00:00",
                ship_time="2024-03-01 11:59:59",
                waybill="W-other",
            ),
            order("other", "2024-03-01 10:00:00", ship_time="2024-03-01 12:00:00"),
        ],
        tracking=[scan("owner", "2024-03-01 18:00:00"), scan("other", "2024-03-01 18:00:00")],
    )
    assert v["owner", "", "pickup"]["status"] == "ok"
    assert v["reuse", "", "pickup"]["status"] == "violated"
    assert v["reuse", "", "pickup"]["reason"] == "missed"
    assert v["earlier", "", "pickup"]["status"] == "ok"
    assert v["other", "", "pickup"]["status"] == "violated"
