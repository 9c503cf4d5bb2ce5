"""A few orders' facts out of a big facts directory, read out of core (``lvyue explain``).

The directory is validated as a whole by :func:`scan_facts` (the same bad rows stop it as stop
``lvyue evaluate``), but only the rows touching the asked orders reach Python: their scans,
after-sales requests and inspection codes, every order shipped with one of those codes (BT-10
needs who bound a code first) and the reports (few, and their order lists are text).
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path

import duckdb
import pyarrow as pa

from lvyue.facts.convert import TIME_TYPE
from lvyue.facts.loader import Facts, empty_table
from lvyue.facts.scan import scan_facts
from lvyue.model.schema import (
    AFTER_SALES,
    INSPECTIONS,
    LABELS,
    MERCHANTS,
    ORDERS,
    REPORTS,
    TRACKING,
    Kind,
    TableSpec,
)

_PICKED = (  # the asked orders and every order sharing an inspection code with one (BT-10)
    "SELECT * FROM {orders} WHERE order_id IN (SELECT id FROM asked) "
    "OR inspection_code IN (SELECT inspection_code FROM {orders} "
    "WHERE order_id IN (SELECT id FROM asked))"
)
_QUERIES = {
    "orders": (ORDERS, "SELECT * FROM picked"),
    "tracking": (TRACKING,
                 "SELECT t.* FROM {tracking} t SEMI JOIN picked USING (carrier, waybill)"),
    "after_sales": (AFTER_SALES,
                    "SELECT * FROM {after_sales} WHERE order_id IN (SELECT id FROM asked)"),
    "reports": (REPORTS, "SELECT * FROM {reports}"),
    "inspections": (INSPECTIONS, "SELECT * FROM {inspections} WHERE inspection_code IN "
                                 "(SELECT inspection_code FROM picked)"),
}  # fmt: skip


def load_orders(path: Path, order_ids: Collection[str], *, memory_limit: str = "1GB") -> Facts:
    """The facts of ``order_ids`` (as :func:`load_facts` would give them, restricted)."""
    with tempfile.TemporaryDirectory(prefix="lvyue-subset-") as spill:
        con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
        try:
            scan = scan_facts(con, path)
            con.register("asked", pa.table({"id": pa.array(sorted(order_ids), pa.string())}))
            orders = _PICKED.format(orders=scan.relations["orders"])
            con.execute(f"CREATE TEMP TABLE picked AS {orders}").fetchall()
            tables = {
                name: _typed(spec, con.sql(query.format(**scan.relations)).to_arrow_table())
                for name, (spec, query) in _QUERIES.items()
            }
        finally:
            con.close()
    return Facts(
        merchants=empty_table(MERCHANTS), labels=empty_table(LABELS), quarantine=scan.quarantine,
        counts=scan.counts, **tables,
    )  # fmt: skip


def _typed(spec: TableSpec, table: pa.Table) -> pa.Table:
    """Epoch seconds back to the instants load_facts gives."""
    for column in spec.columns:
        if column.kind is Kind.TIME:
            index = table.schema.get_field_index(column.name)
            typed = table[column.name].cast(pa.int64()).cast(TIME_TYPE)
            table = table.set_column(index, column.name, typed)
    return table
