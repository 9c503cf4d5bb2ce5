"""Tables of the fixed world (merchants, accounts, products, outlets, lanes, ground truth) and
the closing per-merchant conversion table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lvyue.sim import creators, data, truth
from lvyue.sim.experience import abnormal_table
from lvyue.sim.world import (
    MERCHANT_TYPES,
    PERMISSIONS,
    POOR_LANE_EXCEPTION,
    POOR_OUTLET_HUB,
    POOR_OUTLET_PICKUP,
    SHIP_MODES,
    SPOT,
    World,
    padded,
)


def _names(values: tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(index))


def world_tables(world: World) -> dict[str, pa.Table]:
    table = data.cities()
    industries = tuple(i.name for i in data.industries())
    m = np.arange(len(world.merchant_industry))
    merchants = pa.table(
        {
            "merchant_id": world.merchant_id,
            "name": pa.array(world.merchant_name, pa.string()),
            "merchant_type": _names(tuple(t.value for t in MERCHANT_TYPES), world.merchant_type),
            "industry": _names(industries, world.merchant_industry),
            "established_store": world.merchant_established,  # DR-5
            "created_at": world.merchant_created,
            "topic_analysis_enabled": world.merchant_topic,  # LD-11
            "settlement_extended_penalty": world.merchant_penalty,  # VF-6
            "province": _names(table.province, world.merchant_city),
            "city": _names(table.city, world.merchant_city),
        }
    )
    mode = world.product_mode
    owner = np.repeat(m, world.product_count)
    products = pa.table(
        {
            "product_id": world.product_id,
            "merchant_id": world.merchant_id.take(pa.array(owner)),
            "category": _names(world.categories, world.product_category),
            "ship_mode": _names(tuple(s.value for s in SHIP_MODES), mode),
            "promise_days": pa.array(world.product_promise_days, mask=mode == SPOT),
            "delayed_shipping": world.product_delayed,
            "festival_open": world.product_festival_open,
        }
    )
    return {
        "merchants": merchants,
        "accounts": _accounts(world),
        "products": products,
        **_network_tables(world),
    }


def _accounts(world: World) -> pa.Table:
    """GN-4, LD-9: one main account per merchant and 0-4 sub-accounts with some permissions."""
    rng = np.random.default_rng([world.seed, 3])
    n = len(world.merchant_industry)
    subs = np.minimum(rng.poisson(1.5, n), 4)
    merchant = np.repeat(np.arange(n), subs + 1)
    rank = np.arange(len(merchant)) - np.repeat(np.cumsum(subs + 1) - (subs + 1), subs + 1)
    main = rank == 0
    grants = rng.random((len(merchant), len(PERMISSIONS))) < 0.45
    grants[main] = True
    permissions = [
        ";".join(p for p, g in zip(PERMISSIONS, row, strict=True) if g) for row in grants
    ]
    names = ["店主" if r == 0 else f"客服{r:02d}" for r in rank]
    return pa.table(
        {
            "account_id": padded("A", merchant * 10 + rank + 1, 8),
            "merchant_id": world.merchant_id.take(pa.array(merchant)),
            "role": pa.array(np.where(main, "main", "sub"), pa.string()),
            "name": pa.array(names, pa.string()),
            "permissions": pa.array(permissions, pa.string()),
        }
    )


def _network_tables(world: World) -> dict[str, pa.Table]:
    net, table = world.network, data.cities()
    profiles = data.carriers()
    ny = net.hub.shape[1]
    carrier_of, city_of = net.facility_carrier, net.facility_city
    codes = tuple(p.code for p in profiles)
    poor = net.pickup_factor > 1
    outlets = pa.table(
        {
            "outlet_id": net.facility_id,
            "carrier": _names(codes, carrier_of),
            "kind": pa.array(
                np.where(net.facility_is_hub, "sorting_centre", "outlet"), pa.string()
            ),
            "name": net.facility_name,
            "province": _names(table.province, city_of),
            "city": _names(table.city, city_of),
        }
    )
    o, d = np.meshgrid(np.arange(ny), np.arange(ny), indexing="ij")
    lanes = pa.table(
        {
            "origin_province": _names(table.province, o.ravel()),
            "origin_city": _names(table.city, o.ravel()),
            "dest_province": _names(table.province, d.ravel()),
            "dest_city": _names(table.city, d.ravel()),
            "distance_km": np.round(net.distance_km.ravel(), 1),
            "standard_hours": np.round(net.standard_hours.ravel(), 2),
        }
    )
    lc, lo, ld = np.nonzero(net.lane_factor > 1)
    poor_rows = np.flatnonzero(poor)
    k, j = len(poor_rows), len(lc)
    truth_table = pa.table(
        {
            "kind": pa.array(["outlet"] * k + ["lane"] * j, pa.string()),
            "carrier": pa.concat_arrays([_names(codes, carrier_of[poor_rows]), _names(codes, lc)]),
            "outlet_id": pa.concat_arrays(
                [net.facility_id.take(pa.array(poor_rows)), pa.nulls(j, pa.string())]
            ),
            "origin_city": pa.concat_arrays(
                [_names(table.city, city_of[poor_rows]), _names(table.city, lo)]
            ),
            "dest_city": pa.concat_arrays([pa.nulls(k, pa.string()), _names(table.city, ld)]),
            "factor": np.concatenate([np.full(k, POOR_OUTLET_PICKUP), net.lane_factor[lc, lo, ld]]),
            "note": pa.array(
                [f"pickup delay x{POOR_OUTLET_PICKUP:g}, pickup to first hub x{POOR_OUTLET_HUB:g}"]
                * k
                + [f"transit x{net.lane_factor.max():g}, exceptions x{POOR_LANE_EXCEPTION:g}"] * j,
                pa.string(),
            ),
        }
    )
    return {
        "outlets": outlets,
        "lanes": lanes,
        "ground_truth": truth_table,
        "abnormal_merchants": abnormal_table(world),  # VF-8 labels
        **_creator_tables(world),
    }


def _creator_tables(world: World) -> dict[str, pa.Table]:
    """VF-9: the promotions and the labels of the false ones."""
    promotions = creators.promotions(world)
    return {
        "promotions": creators.promotions_table(world, promotions),
        "false_claims": creators.false_claims_table(world, promotions),
    }


def conversion_table(world: World, sums: np.ndarray) -> pa.Table:
    """Per merchant: the true conversion rate (truth.conversion_rate) from its logistics, and
    visitors drawn so that orders / visitors estimates it."""
    rng = np.random.default_rng([world.seed, 4])
    orders, shipped = sums[:, 0], sums[:, 1]
    denominator = np.maximum(shipped, 1)
    xp, xt, er = sums[:, 2] / denominator, sums[:, 3] / denominator, sums[:, 4] / denominator
    industries = np.array([i.name for i in data.industries()])[world.merchant_industry]
    rate = truth.conversion_rate(industries, xp, xt, er)
    failures = rng.negative_binomial(np.maximum(orders, 1), rate)
    visitors = np.where(orders > 0, orders + failures, rng.poisson(50, len(orders)))
    return pa.table(
        {
            "merchant_id": world.merchant_id,
            "industry": pa.array(industries, pa.string()),
            "orders": orders.astype(np.int64),
            "shipped": shipped.astype(np.int64),
            "mean_pickup_excess": np.round(xp, 6),
            "mean_transit_excess": np.round(xt, 6),
            "exception_rate": np.round(er, 6),
            "true_conversion_rate": np.round(rate, 6),
            "visitors": visitors.astype(np.int64),
        }
    )
