"""The simulated marketplace looks like the one the issue describes."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lvyue.model.enums import MerchantType, ShipMode, TrackingKind
from lvyue.sim import data
from lvyue.tracking import classify_scan

BEIJING = "Asia/Shanghai"


@pytest.fixture(scope="module")
def orders(market: dict[str, pa.Table]) -> pd.DataFrame:
    frame = market["orders"].to_pandas()
    frame["pay_bj"] = frame["pay_time"].dt.tz_convert(BEIJING)
    return frame


@pytest.fixture(scope="module")
def tracking(market: dict[str, pa.Table]) -> pd.DataFrame:
    return market["tracking"].to_pandas()


def test_merchants_industries_types_and_accounts(market: dict[str, pa.Table]) -> None:
    merchants = market["merchants"].to_pandas()
    assert set(merchants["industry"]) == {i.name for i in data.industries()}
    assert set(merchants["merchant_type"]) == {t.value for t in MerchantType}
    accounts = market["accounts"].to_pandas()
    mains = accounts[accounts["role"] == "main"].groupby("merchant_id").size()
    assert (mains == 1).all() and len(mains) == len(merchants)
    assert (accounts["role"] == "sub").sum() > 0
    assert (
        merchants["topic_analysis_enabled"].any() and not merchants["topic_analysis_enabled"].all()
    )


def test_categories_ship_modes_and_promises(orders: pd.DataFrame) -> None:
    for path in (
        "鲜花速递/花卉仿真/绿植园艺>生活鲜花",
        "鲜花速递/花卉仿真/绿植园艺>鲜花速递(同城)",
        "二手商品>二手3C数码>手机",
        "二手商品>二手奢侈品>箱包",
        "服饰内衣>女装>连衣裙",
    ):
        assert (orders["category"] == path).any(), path
    modes = orders["ship_mode"].value_counts(normalize=True)
    # 定金预售 is a ship mode (SF-5) the simulator does not draw
    assert set(modes.index) == {m.value for m in ShipMode} - {ShipMode.DEPOSIT_PRESALE.value}
    assert modes[ShipMode.SPOT.value] > 0.75
    presale = orders[orders["ship_mode"].isin(["presale", "step"])]
    days = (presale["promised_ship_time"] - presale["pay_time"]).dt.total_seconds() / 86400
    assert days.between(2, 15).all()
    assert orders["delayed_shipping"].any() and orders["festival_open"].any()


def test_payments_span_the_windows_with_seasonality(orders: pd.DataFrame) -> None:
    pay = orders["pay_bj"]
    assert pay.min() >= pd.Timestamp("2023-01-01", tz=BEIJING)
    assert pay.max() < pd.Timestamp("2024-04-01", tz=BEIJING)
    for start, end in (("2023-01-14", "2023-02-03"), ("2024-02-02", "2024-02-21")):
        assert (
            pay.between(pd.Timestamp(start, tz=BEIJING), pd.Timestamp(end, tz=BEIJING)).sum() > 100
        )
    flowers = orders[orders["industry"] == "鲜花"]
    in_vf = flowers["pay_bj"].between(
        pd.Timestamp("2024-02-08", tz=BEIJING), pd.Timestamp("2024-02-15", tz=BEIJING)
    )
    assert in_vf.sum() / 7 > 4 * len(flowers) / 456  # Valentine's week is dense
    clock = pay.dt.strftime("%H:%M:%S")
    assert (clock == "23:59:59").sum() > 5  # paid exactly at window ends
    weekend = pay.dt.day_of_week >= 5
    per_day = pay.dt.date.groupby(weekend.values).value_counts().groupby(level=0).mean()
    assert per_day[True] > per_day[False]
    hours = pay.dt.hour.value_counts()
    assert hours[21] > 3 * hours[4]


def test_tracking_has_the_scan_timeline(orders: pd.DataFrame, tracking: pd.DataFrame) -> None:
    shipped = orders["ship_time"].notna()
    assert len(tracking) / shipped.sum() >= 4
    assert set(tracking["kind"]) == {
        "pickup", "hub_arrival", "hub_departure", "out_for_delivery", "signed", "exception",
        "returned", "warehouse_in",
    }  # fmt: skip
    first = tracking.groupby(["carrier", "waybill"], sort=False).first()
    assert first["kind"].isin(["pickup", "warehouse_in"]).all()  # warehouse-in: SF-5 below
    assert len(first) == shipped.sum()
    same_parcel = tracking["waybill"].eq(tracking["waybill"].shift())  # rows come per parcel
    assert (tracking["time"].diff()[same_parcel] >= pd.Timedelta(0)).all()
    assert tracking.loc[~same_parcel, "waybill"].is_unique
    outlets = tracking.loc[tracking["kind"] == "pickup", "outlet"]
    assert outlets.str.fullmatch(r"[a-z]+-[^-]+-\d{3}").all()
    assert re.search(r"(转运中心|分拨中心|中转场|处理中心)", " ".join(tracking["text"].head(200)))


def test_spring_festival_slows_pickup(parcels: pd.DataFrame) -> None:
    m = parcels
    ship = m["ship_time"].dt.tz_convert(BEIJING)
    festival = ship.between(
        pd.Timestamp("2023-01-16", tz=BEIJING), pd.Timestamp("2023-01-27", tz=BEIJING)
    )
    summer = ship.dt.month.isin([6, 7, 8])
    assert m.loc[festival, "pickup_hours"].median() > 1.5 * m.loc[summer, "pickup_hours"].median()


def test_transit_grows_with_distance_and_differs_by_carrier(parcels: pd.DataFrame) -> None:
    m = parcels
    hours = m["transit_ratio"] * m["standard_hours"]
    assert np.corrcoef(m["standard_hours"], hours)[0, 1] > 0.3
    by_carrier = m.groupby("carrier")["transit_ratio"].median()
    assert by_carrier["shunfeng"] < 0.8 * by_carrier["youzhengguonei"]


def test_poor_outlets_and_lanes_are_findable(
    market: dict[str, pa.Table], parcels: pd.DataFrame
) -> None:
    m = parcels
    truth = market["ground_truth"].to_pandas()
    poor_outlets = set(truth.loc[truth["kind"] == "outlet", "outlet_id"])
    at_poor = m["outlet"].isin(poor_outlets)
    assert at_poor.sum() > 100
    assert m.loc[at_poor, "pickup_hours"].median() > 2.5 * m.loc[~at_poor, "pickup_hours"].median()
    lanes = truth[truth["kind"] == "lane"][["carrier", "origin_city", "dest_city"]]
    on_poor = m.merge(
        lanes.assign(poor=True), how="left", on=["carrier", "origin_city", "dest_city"]
    )
    poor = on_poor["poor"].fillna(False).astype(bool)
    assert poor.sum() > 50
    assert (
        on_poor.loc[poor, "transit_ratio"].median()
        > 1.5 * on_poor.loc[~poor, "transit_ratio"].median()
    )


def test_exceptions_returns_and_outcomes(orders: pd.DataFrame) -> None:
    returned = orders["logistics_return"]
    assert 0 < returned.mean() < 0.02
    assert not orders.loc[returned, "settled"].any() and orders.loc[returned, "refunded"].all()
    settled = orders[orders["settled"]]
    assert (settled["settled_at"] > settled["confirmed_receipt_time"]).all()
    assert 0.8 < orders["settled"].mean() < 0.97
    assert 0 < orders["complained"].mean() < 0.1
    unshipped = orders["ship_time"].isna()
    assert orders.loc[unshipped, "refunded"].all() and orders.loc[unshipped, "carrier"].isna().all()


def test_after_sales_steps_in_order(market: dict[str, pa.Table]) -> None:
    after = market["after_sales"].to_pandas()
    assert set(after["type"]) == {"refund_only", "return_refund", "exchange"}
    goods = after[after["type"] != "refund_only"]
    steps = ["created_at", "merchant_handled_at", "return_shipped_at", "return_signed_at",
             "merchant_received_at", "refunded_at"]  # fmt: skip
    for earlier, later in itertools.pairwise(steps):
        assert (goods[later] >= goods[earlier]).all(), (earlier, later)
    late = (after["merchant_handled_at"] - after["created_at"]).dt.total_seconds() > 48 * 3600
    assert late.any()


def test_reports_and_inspections(market: dict[str, pa.Table], orders: pd.DataFrame) -> None:
    reports = market["reports"].to_pandas()
    assert set(reports["status"]) == {"approved", "rejected", "pending"}
    assert reports["new_deadline"].notna().any()
    covered = reports["order_ids"].str.split(";").explode()
    assert covered.isin(set(orders["order_id"])).all()
    assert (reports["order_ids"].str.count(";") > 0).any()  # some cover several orders
    inspections = market["inspections"].to_pandas()
    assert inspections["inspection_code"].is_unique
    assert set(inspections["result"]) == {"pass", "fail"}
    second_hand = orders["category"].str.startswith("二手商品") & orders["ship_time"].notna()
    assert orders.loc[second_hand, "inspection_code"].notna().mean() > 0.9
    assert orders.loc[~second_hand, "inspection_code"].isna().all()


def test_cross_border_presale_mode_and_warehouse_in(
    orders: pd.DataFrame, tracking: pd.DataFrame
) -> None:
    """SF-5: cross-border presale orders say how they travel; a 海外集货 parcel's track starts
    with the warehouse-in record, in words the tracking module recognises."""
    presale = (orders["merchant_type"] == "cross_border") & (orders["ship_mode"] == "presale")
    assert orders["cross_border_mode"].notna().equals(presale)
    assert set(orders.loc[presale, "cross_border_mode"]) == {"overseas_consolidation", "bbc_bonded"}
    consolidation = orders["cross_border_mode"].eq("overseas_consolidation")
    shipped = orders[consolidation & orders["ship_time"].notna()]
    scans = tracking[tracking["kind"] == "warehouse_in"]
    assert sorted(scans["waybill"]) == sorted(shipped["waybill"]) and len(scans) > 100
    first = tracking.groupby("waybill", sort=False).first()
    assert (first.loc[shipped["waybill"], "kind"] == "warehouse_in").all()
    assert {classify_scan(text) for text in scans["text"]} == {TrackingKind.WAREHOUSE_IN}
