"""One chunk of orders and everything that hangs off them, as facts tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.enums import Check, VerdictStatus
from lvyue.model.schema import TABLES, Kind
from lvyue.sim import creators, data, inspection
from lvyue.sim.after_sales import after_sales_table
from lvyue.sim.experience import (
    complaints_table,
    reviews_table,
    with_interventions,
    with_reasons,
)
from lvyue.sim.labels import Labels
from lvyue.sim.logistics import addresses, draw_parcels, tracking_table
from lvyue.sim.orders import (
    CONTROL,
    CROSS_BORDER_MODES,
    LATE_PICKUP,
    NO_MODE,
    NONE,
    SLOW_HUB,
    Columns,
    draw_orders,
)
from lvyue.sim.outcomes import draw_outcomes, excess_sums
from lvyue.sim.reports import reports_table
from lvyue.sim.world import (
    DOMESTIC,
    FACTORY_DIRECT,
    MERCHANT_TYPES,
    SHIP_MODES,
    SPOT,
    World,
    padded,
)

CHUNK_TABLES = (
    "orders",
    "tracking",
    "after_sales",
    "reports",
    "inspections",
    "labels",
    "reviews",
    "complaints",
)
INSTANT_TYPE = pa.timestamp("s", tz="UTC")
ORDER_ID_BASE = 19_283_746_500_000_000  # 子订单编号: 19 digits, "69..." like the platform's


def chunk_tables(
    world: World, chunk: int, first: int, n: int
) -> tuple[dict[str, pa.Table], np.ndarray]:
    """The facts of orders ``first .. first + n - 1`` and the per-merchant metric sums.

    Each chunk has its own random streams (seed, chunk), so output does not depend on how
    many chunks ran before in this process."""
    streams = [
        np.random.default_rng(s) for s in np.random.SeedSequence([world.seed, 2, chunk]).spawn(9)
    ]
    o = draw_orders(world, streams[0], first, n)
    draw_parcels(world, streams[1], o)
    draw_outcomes(world, streams[2], o)
    order_ids = padded(
        "69", ORDER_ID_BASE + o["index"] * 1000 + streams[3].integers(0, 1000, n), 17
    )
    labels = Labels()
    _order_labels(o, labels)
    codes, inspections = inspection.inspections(world, streams[4], o, order_ids, labels)
    tables = {
        "orders": _orders(world, o, order_ids, codes),
        "tracking": tracking_table(world, streams[7], o),
        "after_sales": after_sales_table(world, streams[5], o, order_ids, labels),
        "reports": reports_table(world, streams[6], o, order_ids, chunk, labels),
        "inspections": inspections,
    }
    tables["labels"] = labels.table(order_ids)
    # VF-8: reasons, reviews, complaints (their own stream: the tables above do not change)
    tables["after_sales"], quality = with_reasons(
        world, streams[8], o, order_ids, tables["after_sales"]
    )
    tables["reviews"] = reviews_table(world, streams[8], o, order_ids, quality)
    # VF-8a: the platform's interventions (own stream: the tables above do not change)
    tables["after_sales"] = with_interventions(
        world, np.random.default_rng([world.seed, 11, chunk]), o, order_ids, tables["after_sales"]
    )
    tables["complaints"] = complaints_table(world, streams[8], o, order_ids, quality)
    # VF-9: the promotion each order came from (own stream: the tables above do not change)
    promoted = creators.attributed(
        world, creators.promotions(world), np.random.default_rng([world.seed, 10, chunk]), o
    )
    tables["orders"] = tables["orders"].append_column("promotion_id", promoted)
    return {k: with_instants(t) for k, t in tables.items()}, excess_sums(o, len(world.merchant_cdf))


def _order_labels(o: Columns, labels: Labels) -> None:
    inj, domestic = o["injection"], o["mtype"] == DOMESTIC
    labels.add(
        np.flatnonzero(inj == LATE_PICKUP),
        Check.PICKUP,
        VerdictStatus.VIOLATED,
        "injected: first pickup scan > 72 h after shipping (SF-6 allows 48 h)",
    )
    labels.add(
        np.flatnonzero(inj == SLOW_HUB),
        Check.FIRST_HUB,
        VerdictStatus.VIOLATED,
        "injected: pickup to first sorting centre > 144 h (SF-7 allows 120 h)",
    )
    control = np.flatnonzero((inj == CONTROL) & (o["mode"] != FACTORY_DIRECT))
    labels.add(
        control, Check.SHIP_DEADLINE, VerdictStatus.OK, "control: shipped within 20 h of payment"
    )
    control = np.flatnonzero((inj == CONTROL) & domestic)
    labels.add(
        control, Check.PICKUP, VerdictStatus.OK, "control: picked up within 18 h of shipping"
    )
    labels.add(
        control,
        Check.FIRST_HUB,
        VerdictStatus.OK,
        "control: first sorting centre within 18 h of pickup",
    )
    labels.add(
        np.flatnonzero(o["delayed_dirty"]),
        Check.SHIP_MODE,
        VerdictStatus.OK,
        "dirty: delayed-shipping flag outside any window that opens the tool (no effect)",
    )
    labels.add(
        np.flatnonzero(o["late_warehouse"]),
        Check.SHIP_DEADLINE,
        VerdictStatus.VIOLATED,
        "injected: 海外集货 presale uploaded in time, warehouse-in a day after the promise (SF-5)",
    )
    labels.add(
        np.flatnonzero(o["timely_warehouse"]),
        Check.SHIP_DEADLINE,
        VerdictStatus.OK,
        "海外集货 presale warehoused (集货入库) and uploaded by the promise (SF-5)",
    )
    vf = o["flower"] & o["in_vf"] & domestic & (o["mode"] != SPOT)
    labels.add(
        np.flatnonzero(vf),
        Check.SHIP_MODE,
        VerdictStatus.VIOLATED,
        "flower product not spot in the Valentine's window (VF-4, VF-5)",
    )


def _cross_border_modes(mode: np.ndarray) -> pa.Array:
    names = pa.array(CROSS_BORDER_MODES, pa.string()).take(pa.array(np.maximum(mode, 0)))
    return pc.if_else(pa.array(mode != NO_MODE), names, pa.scalar(None, pa.string()))


def _orders(world: World, o: Columns, order_ids: pa.StringArray, codes: pa.StringArray) -> pa.Table:
    cities = data.cities()
    province, city = pa.array(cities.province, pa.string()), pa.array(cities.city, pa.string())
    shipped = pa.array(o["ship"] != NONE)
    unshipped = pa.scalar(None, pa.string())
    carriers = pa.array([p.code for p in data.carriers()], pa.string())
    status = np.select(
        [o["refunded"], o["receipt"] != NONE, o["ship"] != NONE],
        ["已关闭", "已完成", "已发货"],
        "待发货",
    )
    m = pa.array(o["merchant"])
    district, address = addresses(o)
    return pa.table(
        {
            "order_id": order_ids,
            "merchant_id": world.merchant_id.take(m),
            "merchant_type": pa.array([t.value for t in MERCHANT_TYPES]).take(pa.array(o["mtype"])),
            "category": pa.array(world.categories).take(pa.array(o["category"])),
            "ship_mode": pa.array([s.value for s in SHIP_MODES]).take(pa.array(o["mode"])),
            "pay_time": o["pay"],
            "promised_ship_time": o["promised"],
            "delayed_shipping": o["delayed"],
            "cross_border_mode": _cross_border_modes(o["xb_mode"]),
            "ship_time": o["ship"],
            "carrier": pc.if_else(shipped, carriers.take(pa.array(o["carrier"])), unshipped),
            "waybill": pc.if_else(shipped, o["waybill"], unshipped),
            "confirmed_receipt_time": o["receipt"],
            "inspection_code": codes,
            "festival_open": o["festival_open"],
            "established_store": world.merchant_established[o["merchant"]],
            "settlement_extended_penalty": world.merchant_penalty[o["merchant"]],
            "industry": pa.array([i.name for i in data.industries()]).take(pa.array(o["industry"])),
            "amount": o["amount"],
            "created_time": o["created"],
            "order_status": pa.array(status, pa.string()),
            "product_id": world.product_id.take(pa.array(o["product"])),
            "origin_province": province.take(pa.array(o["origin"])),
            "origin_city": city.take(pa.array(o["origin"])),
            "dest_province": province.take(pa.array(o["dest"])),
            "dest_city": city.take(pa.array(o["dest"])),
            "dest_district": district,
            "address": address,
            "outlet": pc.if_else(
                shipped, world.network.facility_id.take(pa.array(o["outlet"])), unshipped
            ),
            "settled": o["settled"],
            "settled_at": o["settled_at"],
            "refunded": o["refunded"],
            "complained": o["complained"],
            "logistics_return": o["returned"],
        }
    )


# The instants of the facts format (model.schema), and the diagnosis's two extra ones.
TIME_COLUMNS = frozenset(
    {c.name for t in TABLES for c in t.columns if c.kind is Kind.TIME}
    | {"created_time", "settled_at"}
)


def with_instants(table: pa.Table) -> pa.Table:
    """int64 epoch-second columns named as instants -> timestamp[s, UTC]; NONE -> null."""
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if name in TIME_COLUMNS and pa.types.is_integer(column.type):
            values = column.to_numpy()
            array = pa.array(values, pa.int64(), mask=values == NONE).cast(INSTANT_TYPE)
            table = table.set_column(i, name, array)
    return table
