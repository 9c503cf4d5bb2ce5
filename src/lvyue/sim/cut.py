"""A world living at an instant holds nothing that happens after it (``cut_at``).

The simulator draws every order paid before ``live_at`` to its end; the cut then removes what
has not happened yet at ``live_at``, the same way for ``simulate`` and ``write_facts`` (so the
database and the facts directory are one world). Per table (docs/decisions/
demo-world-lives-at-its-clock.md):

- orders: a ship after the instant -> unshipped (no carrier, waybill, outlet, inspection
  code, logistics return); a receipt or settlement after it -> none; refunded / complained
  only with a refund / complaint recorded by then; the status follows.
- tracking, reviews, complaints, promotions, inspections: rows after the instant dropped.
- after_sales: a request after the instant dropped; its later steps nulled (a decision with
  its handling).
- labels (expected verdicts): those of an order or request the cut touched are dropped (they
  were drawn for the whole story).
- reports: kept; they carry no instant of filing, and a report (报备) is filed before the
  delay it covers. Deadlines and periods (promised_ship_time, new_deadline, period_*) are
  promises, not events, and may lie after the instant.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Instants at which something happens (the cut drops or nulls those after the instant).
EVENTS: dict[str, tuple[str, ...]] = {
    "orders": ("pay_time", "created_time", "ship_time", "confirmed_receipt_time", "settled_at"),
    "tracking": ("time",),
    "after_sales": (
        "created_at",
        "merchant_handled_at",
        "return_shipped_at",
        "merchant_received_at",
        "return_signed_at",
        "refunded_at",
        "intervened_at",
    ),
    "reviews": ("created_at",),
    "complaints": ("created_at",),
    "promotions": ("published_at",),
    "inspections": ("inspected_at",),
    "merchants": ("created_at",),
}
_DROPPED = {"tracking": "time", "reviews": "created_at", "complaints": "created_at"}
_DROPPED |= {"promotions": "published_at", "inspections": "inspected_at"}
_BEFORE = ("orders", "after_sales", "tracking")  # what the labels compare
_SHIPPED_WITH = ("carrier", "waybill", "outlet", "inspection_code")


def cut_at(tables: dict[str, pa.Table], live_at: datetime) -> dict[str, pa.Table]:
    """``tables`` (some of the simulator's, one chunk or the world's) as they stand at
    ``live_at``: nothing after it."""
    out = dict(tables)
    for name, column in _DROPPED.items():
        if name in out:
            out[name] = out[name].filter(_by(out[name][column], live_at))
    before: dict[str, pa.Table] = {k: tables[k] for k in _BEFORE if k in tables}
    if "after_sales" in out:
        out["after_sales"] = _after_sales(out["after_sales"], live_at)
    if "orders" in out:
        out["orders"] = _orders(out["orders"], out, live_at)
    if "labels" in out:
        out["labels"] = _labels(out["labels"], before, out)
    return out


def _by(column: pa.ChunkedArray, live_at: datetime) -> pa.ChunkedArray:
    """True where the instant is known by ``live_at`` (null: nothing happened; kept)."""
    return pc.fill_null(pc.less_equal(column, pa.scalar(live_at, column.type)), True)


def _null_after(table: pa.Table, name: str, live_at: datetime) -> pa.Table:
    column = table[name]
    kept = pc.if_else(_by(column, live_at), column, pa.scalar(None, column.type))
    return table.set_column(table.schema.get_field_index(name), name, kept)


def _null_where(table: pa.Table, name: str, gone: pa.ChunkedArray) -> pa.Table:
    column = table[name]
    kept = pc.if_else(gone, pa.scalar(None, column.type), column)
    return table.set_column(table.schema.get_field_index(name), name, kept)


def _after_sales(table: pa.Table, live_at: datetime) -> pa.Table:
    table = table.filter(_by(table["created_at"], live_at))
    handled = table["merchant_handled_at"]
    intervened = table["intervened_at"] if "intervened_at" in table.column_names else None
    for name in EVENTS["after_sales"][1:]:
        if name in table.column_names:
            table = _null_after(table, name, live_at)
    if intervened is not None and "intervention" in table.column_names:  # VF-8a: both or none
        gone = pc.and_(pc.is_valid(intervened), pc.is_null(table["intervened_at"]))
        table = _null_where(table, "intervention", gone)
    if "merchant_decision" in table.column_names:  # decided when handled
        gone = pc.and_(pc.is_valid(handled), pc.is_null(table["merchant_handled_at"]))
        table = _null_where(table, "merchant_decision", gone)
    return table


def _orders(table: pa.Table, tables: dict[str, pa.Table], live_at: datetime) -> pa.Table:
    unshipped = pc.invert(_by(table["ship_time"], live_at))
    for name in ("ship_time", "confirmed_receipt_time", "settled_at"):
        table = _null_after(table, name, live_at)
    for name in _SHIPPED_WITH:
        if name in table.column_names:
            table = _null_where(table, name, unshipped)
    ids = table["order_id"]
    flags = {
        "settled": pc.is_valid(table["settled_at"]),
        "logistics_return": pc.and_(table["logistics_return"], pc.invert(unshipped)),
    }
    if "after_sales" in tables:
        refunds = tables["after_sales"].filter(pc.is_valid(tables["after_sales"]["refunded_at"]))
        flags["refunded"] = pc.and_(table["refunded"], pc.is_in(ids, refunds["order_id"]))
    if "complaints" in tables:
        flags["complained"] = pc.and_(
            table["complained"], pc.is_in(ids, tables["complaints"]["order_id"])
        )
    for name, values in flags.items():
        if name in table.column_names:
            table = table.set_column(table.schema.get_field_index(name), name, values)
    if "order_status" in table.column_names:
        table = table.set_column(
            table.schema.get_field_index("order_status"), "order_status", _status(table)
        )
    return table


def _status(table: pa.Table) -> pa.Array:
    status = np.select(
        [
            table["refunded"].to_numpy(zero_copy_only=False),
            table["confirmed_receipt_time"].is_valid().to_numpy(zero_copy_only=False),
            table["ship_time"].is_valid().to_numpy(zero_copy_only=False),
        ],
        ["已关闭", "已完成", "已发货"],
        "待发货",
    )
    return pa.array(status, pa.string())


def _labels(table: pa.Table, before: dict[str, pa.Table], after: dict[str, pa.Table]) -> pa.Table:
    """Labels of an order or request whose facts the cut changed are dropped."""
    touched_orders: list[str] = []
    touched_requests: list[str] = []
    if "orders" in before:
        changed = pc.invert(_same_rows(before["orders"], after["orders"]))
        touched_orders += before["orders"]["order_id"].filter(changed).to_pylist()
    if "tracking" in before and "orders" in before:
        scans = before["tracking"]
        late = scans.filter(pc.invert(_same_count(scans, after["tracking"])))
        shipped = before["orders"].filter(pc.is_in(before["orders"]["waybill"], late["waybill"]))
        touched_orders += shipped["order_id"].to_pylist()
    if "after_sales" in before:
        kept = after["after_sales"]
        old = before["after_sales"].filter(
            pc.is_in(before["after_sales"]["aftersale_id"], kept["aftersale_id"])
        )
        gone = before["after_sales"].filter(
            pc.invert(pc.is_in(before["after_sales"]["aftersale_id"], kept["aftersale_id"]))
        )
        changed = old.filter(pc.invert(_same_rows(old, kept)))
        touched_requests += gone["aftersale_id"].to_pylist() + changed["aftersale_id"].to_pylist()
        touched_orders += gone["order_id"].to_pylist() + changed["order_id"].to_pylist()
    keep = pc.and_(
        pc.invert(
            pc.fill_null(pc.is_in(table["order_id"], pa.array(touched_orders, pa.string())), False)
        ),
        pc.invert(
            pc.fill_null(
                pc.is_in(table["aftersale_id"], pa.array(touched_requests, pa.string())), False
            )
        ),
    )
    return table.filter(keep)


def _same_count(old: pa.Table, new: pa.Table) -> pa.ChunkedArray:
    """Scans of ``old`` kept in ``new`` (the cut only drops scans: keyed by waybill and time)."""
    key = pc.binary_join_element_wise(old["waybill"], pc.cast(old["time"], pa.string()), "|")
    kept = pc.binary_join_element_wise(new["waybill"], pc.cast(new["time"], pa.string()), "|")
    return pc.is_in(key, kept)


def _same_rows(old: pa.Table, new: pa.Table) -> pa.ChunkedArray:
    """Row by row (same order), whether every column of ``old`` is unchanged in ``new``."""
    same = pa.chunked_array([np.ones(len(old), bool)])
    for name in old.column_names:
        equal = pc.equal(old[name], new[name])
        both_null = pc.and_(pc.is_null(old[name]), pc.is_null(new[name]))
        same = pc.and_(same, pc.or_(pc.fill_null(equal, False), both_null))
    return same
