"""Policy preview: the verdicts a draft announcement would change, before it is published."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from lvyue.engine.batch import Backend, Compiles, evaluate_file
from lvyue.engine.duck import DEFAULT_MEMORY_LIMIT, Session
from lvyue.engine.online import DEFAULT_HORIZON, Resolves
from lvyue.engine.penalties import late_orders_in, penalties

_CHANGES_SQL = """
SELECT coalesce(b.order_id, d.order_id) AS order_id,
       coalesce(b.aftersale_id, d.aftersale_id) AS aftersale_id,
       coalesce(b.merchant_id, d.merchant_id) AS merchant_id,
       coalesce(b."check", d."check") AS "check",
       b.status AS status_before, d.status AS status_after,
       b.deadline AS deadline_before, d.deadline AS deadline_after,
       b.clauses AS clauses_before, d.clauses AS clauses_after
FROM base b FULL OUTER JOIN draft d
  ON b.order_id = d.order_id AND b.aftersale_id = d.aftersale_id AND b."check" = d."check"
WHERE b.status IS DISTINCT FROM d.status
   OR b.deadline IS DISTINCT FROM d.deadline
   OR b.clauses IS DISTINCT FROM d.clauses
ORDER BY order_id, aftersale_id, "check"
"""

_GROUP_SQL = """
SELECT {key}, "check", coalesce(status_before, '-') || ' → ' || coalesce(status_after, '-')
       AS change, count(*) AS verdicts
FROM changes GROUP BY ALL ORDER BY verdicts DESC, {key}, "check", change
"""


class Judges(Compiles, Resolves, Protocol):
    """A rulebook both paths can use: batch verdicts, then DR-6 penalties of the late ones."""


@dataclass(frozen=True)
class PenaltyTotals:
    """What DR-6 makes of the late orders under one rulebook."""

    late_orders: int
    points: float
    deduction_yuan: float
    product_bans: int


@dataclass(frozen=True)
class Preview:
    changes: pa.Table  # one row per verdict that differs
    by_clause: pa.Table  # clauses_after, check, change, verdicts
    by_merchant: pa.Table  # merchant_id, check, change, verdicts
    verdicts: int  # verdicts under the published rulebook
    status_changes: int = 0  # verdicts whose status differs (not only the deadline or clause)
    penalties_before: PenaltyTotals | None = None
    penalties_after: PenaltyTotals | None = None


def preview(
    facts_dir: Path,
    as_of: datetime,
    published: Judges,
    draft: Judges,
    *,
    backend: Backend = "duckdb",
    horizon: timedelta = DEFAULT_HORIZON,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
) -> Preview:
    """Both rulebooks' verdicts written out of core, then compared by DuckDB."""
    with tempfile.TemporaryDirectory(prefix="lvyue-preview-") as tmp:
        files = {name: Path(tmp) / f"{name}.parquet" for name in ("base", "draft")}
        for name, rulebook in (("base", published), ("draft", draft)):
            evaluate_file(facts_dir, as_of, rulebook, files[name], backend=backend,
                          horizon=horizon, memory_limit=memory_limit)  # fmt: skip
        with Session(memory_limit) as session:
            con = session.con
            for name, path in files.items():
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
            changes = con.sql(_CHANGES_SQL).to_arrow_table()
            con.register("changes", changes)
            by_clause = con.sql(_GROUP_SQL.format(key="clauses_after")).to_arrow_table()
            by_merchant = con.sql(_GROUP_SQL.format(key="merchant_id")).to_arrow_table()
            verdicts = con.execute("SELECT count(*) FROM base").fetchall()[0][0]
            status = con.execute(
                "SELECT count(*) FROM changes WHERE status_before IS DISTINCT FROM status_after"
            ).fetchall()[0][0]
        before = _totals(facts_dir, files["base"], as_of, published)
        after = _totals(facts_dir, files["draft"], as_of, draft)
    return Preview(changes, by_clause, by_merchant, int(verdicts), int(status), before, after)


def _totals(facts_dir: Path, verdicts: Path, as_of: datetime, rulebook: Judges) -> PenaltyTotals:
    table = penalties(late_orders_in(facts_dir, verdicts), as_of, rulebook)
    return PenaltyTotals(
        late_orders=table.num_rows,
        points=float(pc.sum(table["points"]).as_py() or 0),
        deduction_yuan=float(pc.sum(table["deduction_yuan"]).as_py() or 0),
        product_bans=int(pc.sum(pc.cast(table["product_banned"], pa.int64())).as_py() or 0),
    )
