"""Creators (达人) and promotions of flower products (VF-1, VF-9), and which orders came from
which promotion.

World level (own stream ``[seed, 10]``): each flower product of a domestic merchant expected to
sell at least MIN_EXPECTED_ORDERS gets a promotion (two from SECOND_EXPECTED_ORDERS: creators
promote what sells; a world with fewer such products promotes its MIN_PROMOTIONS best-selling
ones, too few orders to judge but claims to show), most by a creator, some the merchant's own
listing, published before the festival, with a text that may make logistics claims
(lvyue.model.claims reads them). Some creators, and some merchants' own listings, claim what
their orders do not get: they are the ground truth (``false_claims``). Every share here is the
simulator's own choice.

Chunk level (own stream): a flower order of a promoted product, paid after a promotion was
published, came from it with probability ATTRIBUTED. A truthful promotion claims what its
orders get — it draws the orders that meet its claims, and an order that misses them only
with probability HONEST_SLIP (a parcel delayed by chance, the noise a check must tolerate),
never once its claim cannot be kept any more (its post is down);
a false one draws orders whatever they got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lvyue.model.claims import Claim, deadline, parse_claims
from lvyue.sim.orders import NONE, Columns
from lvyue.sim.seasons import bj
from lvyue.sim.world import DOMESTIC, World, padded

MIN_EXPECTED_ORDERS = 60  # over the simulated year; fewer: too few to tell a claim by
MIN_PROMOTIONS = 3  # a small world still has a few (its best-selling flower products)
SECOND_EXPECTED_ORDERS = 150
OWN_LISTING = 0.2  # of promotions: the merchant's own
PROMOTIONS_PER_CREATOR = 3
FALSE_CREATORS = 0.25  # of creators
FALSE_PROMOTION = 0.8  # of a false creator's promotions (the rest are truthful)
FALSE_OWN_LISTING = 0.25  # of merchants' own listings
ATTRIBUTED = 0.7  # of a promoted product's orders
HONEST_SLIP = 0.15
PUBLISHED = (bj("2024-01-20 00:00:00"), bj("2024-02-12 00:00:00"))
GOODS = ("红玫瑰花束", "香槟玫瑰礼盒", "向日葵花束", "永生花礼盒", "郁金香鲜花", "百合花束")
TRUTHFUL = (
    "{g}，48小时内发货，全国包邮",
    "{g} 72小时内发货",
    "{g} 现货 顺丰包邮",
    "2月20日前包邮到家！{g}",
    "{g}，情人节限定款，品质保证",
)
FALSE = (
    "{g} 当日达，新鲜直送",
    "{g}次日达 顺丰包邮",
    "下单后12小时内发货，{g}次日达",
    "情人节当天送达！{g}",
    "{g} 24小时内发货，2月14日前包邮到家",
)


@dataclass(frozen=True)
class Promotions:
    product: npt.NDArray[np.int64]
    merchant: npt.NDArray[np.int64]
    creator: npt.NDArray[np.int64]  # -1: the merchant's own listing
    published: npt.NDArray[np.int64]
    false: npt.NDArray[np.bool_]
    text: tuple[str, ...]
    claims: tuple[tuple[Claim, ...], ...]
    promotion_id: pa.StringArray
    creator_id: pa.StringArray


def promotions(world: World) -> Promotions:
    """The promotions of the world (own random stream: other draws keep)."""
    rng = np.random.default_rng([world.seed, 10])
    owner = np.repeat(np.arange(len(world.product_count)), world.product_count)
    flower = world.category_flower[world.product_category]
    share = np.diff(world.merchant_cdf, prepend=0.0)
    expected = share[owner] * world.orders / world.product_count[owner]
    eligible = flower & (world.merchant_type[owner] == DOMESTIC)
    products = np.flatnonzero(eligible & (expected >= MIN_EXPECTED_ORDERS))
    if len(products) < MIN_PROMOTIONS:  # too small to judge, never too small to show
        candidates = np.flatnonzero(eligible)
        best = candidates[np.argsort(-expected[candidates], kind="stable")][:MIN_PROMOTIONS]
        products = np.union1d(products, best)
    product = np.repeat(products, 1 + (expected[products] >= SECOND_EXPECTED_ORDERS))
    n = len(product)
    creators = max(1, round(n / PROMOTIONS_PER_CREATOR))
    creator = np.where(rng.random(n) < OWN_LISTING, -1, rng.integers(0, creators, n))
    false_creator = rng.random(creators) < FALSE_CREATORS
    false = np.where(
        creator >= 0,
        false_creator[np.maximum(creator, 0)] & (rng.random(n) < FALSE_PROMOTION),
        rng.random(n) < FALSE_OWN_LISTING,
    )
    published = rng.integers(*PUBLISHED, n)
    goods = rng.integers(0, len(GOODS), n)
    pick = rng.integers(0, len(TRUTHFUL), n)
    text = tuple(
        (FALSE if f else TRUTHFUL)[p % len(FALSE if f else TRUTHFUL)].format(g=GOODS[g])
        for f, p, g in zip(false, pick, goods, strict=True)
    )
    claims = tuple(
        tuple(parse_claims(t, datetime.fromtimestamp(int(s), UTC)))
        for t, s in zip(text, published, strict=True)
    )
    ids = padded("PR", np.arange(n, dtype=np.int64) + 1, 7)
    creator_ids = padded("C", np.maximum(creator, 0) + 1, 6)
    creator_id = pa.array(
        [c if k >= 0 else None for c, k in zip(creator_ids.to_pylist(), creator, strict=True)],
        pa.string(),
    )
    return Promotions(
        product, owner[product], creator, published, false, text, claims, ids, creator_id
    )


def promotions_table(world: World, p: Promotions) -> pa.Table:
    """The ``promotions`` facts table (docs/formats.md)."""
    return pa.table(
        {
            "promotion_id": p.promotion_id,
            "product_id": world.product_id.take(pa.array(p.product)),
            "merchant_id": world.merchant_id.take(pa.array(p.merchant)),
            "creator_id": p.creator_id,
            "published_at": p.published,
            "text": pa.array(p.text, pa.string()),
        }
    )


def false_claims_table(world: World, p: Promotions) -> pa.Table:
    """The labels: every promotion whose claims its orders do not get, and whose it is."""
    rows = np.flatnonzero(p.false)
    creator = p.creator[rows]
    party_id = [
        (p.creator_id[int(r)].as_py() if c >= 0 else world.merchant_id[int(p.merchant[r])].as_py())
        for r, c in zip(rows, creator, strict=True)
    ]
    return pa.table(
        {
            "promotion_id": p.promotion_id.take(pa.array(rows, pa.int64())),
            "party": pa.array(["creator" if c >= 0 else "merchant" for c in creator], pa.string()),
            "party_id": pa.array(party_id, pa.string()),
            "text": pa.array([p.text[int(r)] for r in rows], pa.string()),
            "note": pa.array(["injected: claims more than its orders get"] * len(rows)),
        }
    )


def _truthful(
    claims: tuple[Claim, ...], o: Columns, rows: npt.NDArray[np.int64], slip: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Per order of ``rows``: could it come from a truthful promotion? Every claim met
    (shipped; the event by its deadline), or missed by a ``slip`` while the claim could still
    be kept when the order was paid (a post promising 2月20日前 is down after the 20th)."""
    met = o["ship"][rows] != NONE
    possible = np.ones(len(rows), bool)
    for c in claims:
        due = deadline(o["pay"][rows], c.pay_weight, c.day_weight, c.offset_s)
        happened = o["ship"][rows] if c.event == "ship" else o["signed"][rows]
        met &= (happened != NONE) & (happened <= due)
        possible &= due >= o["pay"][rows]
    result: npt.NDArray[np.bool_] = possible & (met | slip)
    return result


def attributed(world: World, p: Promotions, rng: np.random.Generator, o: Columns) -> pa.Array:
    """Per order: the promotion it came from, or null."""
    n = len(o["pay"])
    if len(p.product) == 0:
        return pa.nulls(n, pa.string())
    chosen = np.full(n, -1, np.int64)
    by_product: dict[int, list[int]] = {}
    for k, product in enumerate(p.product):
        by_product.setdefault(int(product), []).append(k)
    candidate = np.flatnonzero(np.isin(o["product"], p.product) & (rng.random(n) < ATTRIBUTED))
    pick = rng.random(len(candidate))
    slip = rng.random(len(candidate)) < HONEST_SLIP
    for i, row in enumerate(candidate):
        options = by_product[int(o["product"][row])]
        chosen[row] = options[int(pick[i] * len(options))]
    for k in range(len(p.product)):
        rows = np.flatnonzero(chosen == k)
        keep = o["pay"][rows] >= p.published[k]
        if not p.false[k]:
            keep &= _truthful(p.claims[k], o, rows, slip[np.searchsorted(candidate, rows)])
        chosen[rows[~keep]] = -1
    ids = p.promotion_id.take(pa.array(np.maximum(chosen, 0)))
    result: pa.Array = pc.if_else(pa.array(chosen >= 0), ids, pa.scalar(None, pa.string()))
    return result
