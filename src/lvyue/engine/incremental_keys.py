"""Finding the orders an incremental run re-judges in the kept key columns.

At 10 M orders every pass over the kept keys (``keys/``) costs ~0.3-0.5 s a column read; a
run made six. Now it makes one (``probe``): the key rows of the orders the new parts or the
clock name. The orders sharing their waybills or inspection codes (decided across orders) come
from ``shared.parquet`` (``SHARED``): the key rows, with their day, of every order whose carrier
and waybill, or inspection code, another kept order has too (~50 k of 10 M simulated orders).
A full run writes it from all keys; a run adding orders adds those that now share (the probe
also reads the keys of the new orders' waybills and codes).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from lvyue.engine import incremental_state as st
from lvyue.model.files import write_atomically

_KEY_LIST = ", ".join(st.KEY_COLUMNS)
_NULLS = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in (*st.KEY_COLUMNS, "day"))
_NO_KEYS = f"SELECT {_NULLS} WHERE false"
_SHARING = """
   (waybill IS NOT NULL AND (carrier, waybill) IN
    (SELECT (carrier, waybill) FROM {keys} WHERE waybill IS NOT NULL
     GROUP BY ALL HAVING count(*) > 1 {also}))
OR inspection_code IN
    (SELECT inspection_code FROM {keys} WHERE inspection_code IS NOT NULL
     GROUP BY ALL HAVING count(*) > 1 {also})
"""  # the key rows on a waybill or code of several orders (``also``: and of a new order)
_NEW = "AND bool_or(day IS NULL)"  # a new order's key row has no day yet (``inc_new_keys``)


def probe(con: duckdb.DuckDBPyConnection, state: Path, now: int, new: set[str]) -> None:
    """``inc_hit``: in one pass over ``inc_keys``, the key rows of the orders the new parts
    name by id (new orders, after-sales, reports) or the clock wakes (``inc_woken``), of every
    order on a newly scanned waybill or a new inspection result's code (matched on the waybill
    alone here, on carrier and waybill where it is used) and, when there are new orders, of
    every order on a new order's waybill or code. ``new``: the tables with new parts (a key
    column no new part names is not read: each costs ~0.15 s at 10 M)."""
    wake = st.quote(state / st.WAKE)
    con.execute("CREATE OR REPLACE TEMP TABLE inc_woken AS SELECT order_id FROM "
                f"read_parquet({wake}) WHERE wake <= {now}")  # fmt: skip
    con.execute("""
    CREATE OR REPLACE TEMP TABLE inc_named AS
    SELECT order_id FROM inc_new_orders UNION SELECT order_id FROM inc_new_after_sales
    UNION SELECT trim(unnest(string_split(order_ids, ';'))) FROM inc_new_reports
    UNION SELECT order_id FROM inc_woken
    """)
    terms = ["order_id IN (SELECT order_id FROM inc_named)"]
    if "tracking" in new:
        terms.append("waybill IN (SELECT waybill FROM inc_new_tracking)")
    if "inspections" in new:
        terms.append("inspection_code IN (SELECT inspection_code FROM inc_new_inspections)")
    if "orders" in new:
        terms += ["waybill IN (SELECT waybill FROM inc_new_keys)",
                  "inspection_code IN (SELECT inspection_code FROM inc_new_keys)"]  # fmt: skip
    con.execute(f"CREATE OR REPLACE TEMP TABLE inc_hit AS SELECT * FROM inc_keys WHERE "
                f"{' OR '.join(terms)}")  # fmt: skip
    sharing = _SHARING.format(keys="inc_hit", also=_NEW if "orders" in new else "AND false")
    con.execute(f"CREATE OR REPLACE TEMP TABLE inc_shared AS SELECT * FROM "
                f"read_parquet({st.quote(state / st.SHARED)}) UNION "
                f"SELECT * FROM inc_hit WHERE {sharing}")  # fmt: skip


def expand(con: duckdb.DuckDBPyConnection) -> int:
    """``inc_selected``: the keys of the chosen orders (``inc_hit`` in ``inc_reasons``) and of
    those sharing their waybills or inspection codes (``inc_shared``); returns how many."""
    con.execute("CREATE OR REPLACE TEMP TABLE inc_chosen AS "
                "SELECT * FROM inc_hit SEMI JOIN inc_reasons USING (order_id)")  # fmt: skip
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE inc_selected AS
    SELECT {_KEY_LIST}, day FROM inc_chosen
    UNION
    SELECT {_KEY_LIST}, day FROM inc_shared
    WHERE (waybill IS NOT NULL AND (carrier, waybill) IN
           (SELECT (carrier, waybill) FROM inc_chosen WHERE waybill IS NOT NULL))
       OR inspection_code IN
           (SELECT inspection_code FROM inc_chosen WHERE inspection_code IS NOT NULL)
    """)
    return int(con.execute("SELECT count(*) FROM inc_selected").fetchall()[0][0])


def keep_shared(con: duckdb.DuckDBPyConnection, state: Path, *, full: bool) -> None:
    """``shared.parquet``: in a ``full`` run from every kept key row, or else from
    ``inc_shared`` (the kept ones and those this run's new orders made), each with its day
    (a new order's from ``inc_days``)."""
    keys = None
    if full:
        keys = st.all_keys(state) if any((state / st.KEYS).glob("*.parquet")) else _NO_KEYS
    if keys is not None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE inc_keys_all AS {keys}")
        sql = f"SELECT * FROM inc_keys_all WHERE {_SHARING.format(keys='inc_keys_all', also='')}"
    else:
        sql = ("SELECT s.* EXCLUDE (day), coalesce(s.day, d.day) AS day FROM inc_shared s "
               "LEFT JOIN inc_days d USING (order_id)")  # fmt: skip

    def write(tmp: Path) -> None:
        con.execute(f"COPY ({sql}) TO {st.quote(tmp)} (FORMAT parquet)")

    write_atomically(state / st.SHARED, write)
    if keys is not None:
        con.execute("DROP TABLE inc_keys_all")
