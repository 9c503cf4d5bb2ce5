"""VF-8's facts: reviews (rating 1..5 whole stars), complaints (reason), after-sales reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.facts import FactsError, load_facts

HEADER = (
    "order_id,merchant_id,merchant_type,category,ship_mode,pay_time,promised_ship_time,"
    "delayed_shipping,ship_time,carrier,waybill,confirmed_receipt_time,inspection_code"
)
ORDER = "o1,m1,domestic,a>b,spot,2024-02-08 10:00:00,,false,,,,,"
REVIEWS = "review_id,order_id,product_id,rating,created_at\n"
COMPLAINTS = "complaint_id,order_id,reason,created_at\n"


def _dir(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "orders.csv").write_text(f"{HEADER}\n{ORDER}\n", encoding="utf-8")
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("rating", ["1", "5", "3.0"])
def test_a_whole_star_from_one_to_five_is_kept(tmp_path: Path, rating: str) -> None:
    facts = load_facts(_dir(tmp_path, reviews=f"{REVIEWS}r1,o1,p1,{rating},2024-02-09 10:00:00\n"))
    assert facts.reviews.column("rating").to_pylist() == [float(rating)]


@pytest.mark.parametrize("rating", ["0", "6", "2.5", "-1"])
def test_a_rating_outside_whole_stars_is_a_bad_row(tmp_path: Path, rating: str) -> None:
    root = _dir(tmp_path, reviews=f"{REVIEWS}r1,o1,p1,{rating},2024-02-09 10:00:00\n")
    with pytest.raises(FactsError, match=r"reviews.csv row 1, column rating: rating not a whole"):
        load_facts(root)
    facts = load_facts(root, skip_bad=True)
    assert facts.reviews.num_rows == 0 and facts.counts["reviews"] == (1, 0, 1)


def test_a_review_or_complaint_of_an_unknown_order_is_a_bad_row(tmp_path: Path) -> None:
    root = _dir(
        tmp_path,
        reviews=f"{REVIEWS}r1,o9,p1,4,2024-02-09 10:00:00\n",
        complaints=f"{COMPLAINTS}c1,o9,quality,2024-02-09 10:00:00\n",
    )
    facts = load_facts(root, skip_bad=True)
    assert [(b.file, b.column) for b in facts.quarantine] == [
        ("reviews.csv", "order_id"),
        ("complaints.csv", "order_id"),
    ]


def test_complaint_reasons_and_after_sales_reasons_are_enums(tmp_path: Path) -> None:
    root = _dir(tmp_path, complaints=f"{COMPLAINTS}c1,o1,rude,2024-02-09 10:00:00\n")
    with pytest.raises(FactsError, match="column reason"):
        load_facts(root)
    after = (
        "aftersale_id,order_id,type,created_at,merchant_handled_at,return_shipped_at,"
        "merchant_received_at,return_signed_at,refunded_at,reason\n"
        "a1,o1,return_refund,2024-02-10 10:00:00,,,,,,defect\n"
        "a2,o1,refund_only,2024-02-10 11:00:00,,,,,,\n"
    )
    facts = load_facts(_dir(tmp_path, complaints=COMPLAINTS, after_sales=after))
    assert facts.after_sales.column("reason").to_pylist() == ["defect", None]
