"""Small hand-made facts for VF-9's claim checks: promotions, the orders that came from them
and what each order actually got (ship time, signed scan, receipt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from lvyue.indicators.creators import ClaimSources, build

FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"
PUBLISHED = datetime(2024, 2, 1, tzinfo=UTC)
PAY = datetime(2024, 2, 9, 2, 0, tzinfo=UTC)  # 10:00 Beijing
END_OF_PAY_DAY = datetime(2024, 2, 9, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Beijing
AS_OF = datetime(2024, 3, 1, tzinfo=UTC)
TIME = pa.timestamp("s", tz="UTC")


class ClaimMarket:
    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.tracking: list[dict[str, Any]] = []
        self.promotions: list[dict[str, Any]] = []

    def promote(
        self,
        text: str,
        *,
        creator: str | None = "C1",
        merchant: str = "M1",
        product: str = "P1",
        published: datetime = PUBLISHED,
    ) -> str:
        pid = f"PR{len(self.promotions) + 1}"
        self.promotions.append(
            {"promotion_id": pid, "product_id": product, "merchant_id": merchant,
             "creator_id": creator, "published_at": published, "text": text}
        )  # fmt: skip
        return pid

    def order(
        self,
        promotion: str | None,
        *,
        pay: datetime = PAY,
        ship: datetime | None = None,
        signed: datetime | None = None,
        receipt: datetime | None = None,
        merchant: str = "M1",
        product: str = "P1",
        category: str = FLOWERS,
        merchant_type: str = "domestic",
    ) -> str:
        oid = f"O{len(self.orders) + 1}"
        ship = ship if ship is not None else pay + timedelta(hours=2)
        waybill = f"YT{len(self.orders) + 1:010d}"
        self.orders.append(
            {"order_id": oid, "merchant_id": merchant, "product_id": product,
             "category": category, "industry": "鲜花", "merchant_type": merchant_type,
             "ship_mode": "spot", "pay_time": pay, "ship_time": ship, "carrier": "yuantong",
             "waybill": waybill, "confirmed_receipt_time": receipt, "promotion_id": promotion,
             "promised_ship_time": None, "delayed_shipping": False, "inspection_code": None}
        )  # fmt: skip
        if signed is not None:
            self.tracking.append(
                {"carrier": "yuantong", "waybill": waybill, "time": signed, "kind": "signed"}
            )
        return oid

    def orders_of(self, promotion: str, n: int, **kw: Any) -> list[str]:
        return [self.order(promotion, **kw) for _ in range(n)]

    def tables(self) -> dict[str, pa.Table | None]:
        def table(rows: list[dict[str, Any]], times: tuple[str, ...]) -> pa.Table | None:
            if not rows:
                return None
            cols = {k: [r.get(k) for r in rows] for k in rows[0]}
            return pa.table({k: pa.array(v, TIME if k in times else None) for k, v in cols.items()})

        return {
            "orders": table(
                self.orders,
                ("pay_time", "ship_time", "confirmed_receipt_time", "promised_ship_time"),
            ),
            "tracking": table(self.tracking, ("time",)),
            "promotions": table(self.promotions, ("published_at",)),
        }

    def sources(self, backend: Any = None) -> ClaimSources:
        return build(self.tables(), backend=backend)
