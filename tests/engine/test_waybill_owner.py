"""A (carrier, waybill) is one parcel: its scans credit only the order that shipped it first,
on both engine paths (issue 12 item 2). An order shipped with another's waybill gets no
pickup from it, so at the deadline it is violated as missed (虚假发货), and a waybill_reuse
verdict flags it for review (item 2b, lvyue's default: ``review``, never ``violated``)."""

from __future__ import annotations

from tests.engine.conftest import Evaluate, at, order, scan

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
    reuse = v["reuse", "", "waybill_reuse"]
    assert (reuse["status"], reuse["reason"], reuse["duty"]) == (
        "review",
        "waybill_reused",
        "merchant",
    )
    assert reuse["done_at"] == at("2024-03-01 12:00:01") and reuse["clauses"] == ""
    for first in ("owner", "earlier"):  # the first shipment of a waybill: no flag
        assert (first, "", "waybill_reuse") not in v
    assert v["other", "", "waybill_reuse"]["status"] == "review"  # "earlier" shipped W-other


def test_a_waybill_reuse_is_flagged_only_once_shipped(evaluate: Evaluate) -> None:
    """The claim is the shipment: an order holding the waybill but not yet shipped (as of)
    is not flagged, and the flag is never a merchant violation."""
    orders = [
        order("owner", "2024-03-01 10:00:00", ship_time="2024-03-01 12:00:00"),
        order("later", "2024-03-01 10:00:00", ship_time="2024-03-02 12:00:00",
              waybill="W-owner"),
    ]  # fmt: skip
    before = evaluate("2024-03-02 11:59:59", orders=orders)
    assert ("later", "", "waybill_reuse") not in before
    after = evaluate("2024-03-02 12:00:00", orders=orders)
    assert after["later", "", "waybill_reuse"]["status"] == "review"
    assert ("owner", "", "waybill_reuse") not in after
