"""Small hand-made facts for the indicator tests: every rate is known in advance."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from lvyue.indicators import Sources, build

PAY = datetime(2024, 2, 9, 2, 0, tzinfo=UTC)  # 10:00 Beijing, inside VF-8's window
AS_OF = datetime(2024, 3, 1, tzinfo=UTC)
FLOWERS = "鲜花速递/花卉仿真/绿植园艺>生活鲜花"


def ts(moment: datetime) -> pa.Scalar:
    return pa.scalar(moment, pa.timestamp("s", tz="UTC"))


class Market:
    """Orders of several merchants; after-sales, complaints and reviews added per order."""

    def __init__(self) -> None:
        self.orders: list[dict[str, object]] = []
        self.after_sales: list[dict[str, object]] = []
        self.complaints: list[dict[str, object]] = []
        self.reviews: list[dict[str, object]] = []

    def add_orders(
        self,
        merchant: str,
        n: int,
        *,
        product: str = "P1",
        category: str = FLOWERS,
        industry: str = "鲜花",
        pay: datetime = PAY,
        merchant_type: str = "domestic",
        receipt: datetime | None = None,
    ) -> list[str]:
        ids = [f"{merchant}-{product}-{len(self.orders) + i}" for i in range(n)]
        for oid in ids:
            self.orders.append(
                {
                    "order_id": oid,
                    "merchant_id": merchant,
                    "product_id": product,
                    "category": category,
                    "industry": industry,
                    "merchant_type": merchant_type,
                    "ship_mode": "spot",
                    "pay_time": pay,
                    "ship_time": None,
                    "carrier": None,
                    "waybill": None,
                    "promised_ship_time": None,
                    "delayed_shipping": False,
                    "confirmed_receipt_time": receipt,
                    "inspection_code": None,
                }
            )
        return ids

    def after_sale(
        self, order: str, reason: str, kind: str = "return_refund", at: datetime = PAY
    ) -> None:
        self.after_sales.append(
            {"aftersale_id": f"AS{len(self.after_sales)}", "order_id": order, "type": kind,
             "reason": reason, "created_at": at, "merchant_handled_at": None,
             "return_shipped_at": None, "merchant_received_at": None, "return_signed_at": None,
             "refunded_at": None}
        )  # fmt: skip

    def complaint(self, order: str, at: datetime = PAY, reason: str = "quality") -> None:
        self.complaints.append(
            {"complaint_id": f"C{len(self.complaints)}", "order_id": order, "reason": reason,
             "created_at": at}
        )  # fmt: skip

    def review(self, order: str, rating: int, at: datetime = PAY) -> None:
        self.reviews.append(
            {"review_id": f"R{len(self.reviews)}", "order_id": order, "product_id": None,
             "rating": float(rating), "created_at": at}
        )  # fmt: skip

    def tables(self) -> dict[str, pa.Table | None]:
        t = pa.timestamp("s", tz="UTC")
        orders = pa.Table.from_pylist(
            self.orders,
            schema=pa.schema(
                [("order_id", pa.string()), ("merchant_id", pa.string()),
                 ("product_id", pa.string()), ("category", pa.string()),
                 ("industry", pa.string()), ("merchant_type", pa.string()),
                 ("ship_mode", pa.string()), ("pay_time", t), ("ship_time", t),
                 ("carrier", pa.string()), ("waybill", pa.string()),
                 ("promised_ship_time", t), ("delayed_shipping", pa.bool_()),
                 ("confirmed_receipt_time", t), ("inspection_code", pa.string())]
            ),
        )  # fmt: skip
        after = pa.Table.from_pylist(
            self.after_sales,
            schema=pa.schema(
                [("aftersale_id", pa.string()), ("order_id", pa.string()), ("type", pa.string()),
                 ("reason", pa.string()), ("created_at", t), ("merchant_handled_at", t),
                 ("return_shipped_at", t), ("merchant_received_at", t),
                 ("return_signed_at", t), ("refunded_at", t)]
            ),
        )  # fmt: skip
        complaints = pa.Table.from_pylist(
            self.complaints,
            schema=pa.schema(
                [("complaint_id", pa.string()), ("order_id", pa.string()),
                 ("reason", pa.string()), ("created_at", t)]
            ),
        )  # fmt: skip
        reviews = pa.Table.from_pylist(
            self.reviews,
            schema=pa.schema(
                [("review_id", pa.string()), ("order_id", pa.string()),
                 ("product_id", pa.string()), ("rating", pa.float64()), ("created_at", t)]
            ),
        )  # fmt: skip
        return {"orders": orders, "tracking": None, "after_sales": after,
                "complaints": complaints, "reviews": reviews}  # fmt: skip

    def sources(self, backend: object = None) -> Sources:
        return build(self.tables(), backend)
