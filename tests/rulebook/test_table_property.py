"""The parameter table and the resolver agree on every order (hypothesis).

Random orders — every merchant type, ship mode, flag combination, categories at, under and
beside every scoped subtree, and clock instants within two seconds of every window edge —
are joined to the table in DuckDB the way the batch engine joins them, and each match is
compared with what the resolver answers for the same order.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.rulebook.drafts import REVISED, write_draft

from lvyue.model.enums import MerchantType, ShipMode
from lvyue.model.time import epoch_seconds, from_epoch
from lvyue.rulebook import (
    FLAGS,
    Answer,
    Clock,
    Duration,
    Instant,
    OrderContext,
    Rulebook,
    load_rulebook,
)


@pytest.fixture(scope="module")
def rulebook(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    # The shipped rulebook plus a revised draft, so versions (BT-15) are covered too.
    return load_rulebook([write_draft(tmp_path_factory.mktemp("draft"), REVISED)])


@pytest.fixture(scope="module")
def table(rulebook: Rulebook) -> pa.Table:
    return rulebook.parameter_table()


def _edges(rb: Rulebook) -> list[int]:
    moments = {
        epoch_seconds(m)
        for c in rb.clauses
        for m in (c.window.start, c.window.end, c.valid.start, c.valid.end)
        if m is not None
    }
    return sorted(moments)


def _categories(rb: Rulebook) -> list[str]:
    keys = [k for k in rb.category_keys if k]
    return ["", "服饰内衣>鞋", "二手商品", *keys, *(k + ">叶子" for k in keys), keys[0] + "X"]


def orders(rb: Rulebook) -> st.SearchStrategy[list[OrderContext]]:
    edges = _edges(rb)
    near_edge = st.builds(lambda e, d: e + d, st.sampled_from(edges), st.integers(-2, 2))
    anywhere = st.integers(edges[0] - 86400 * 30, edges[-1] + 86400 * 30)
    instant = st.one_of(near_edge, anywhere).map(from_epoch)
    clock_map = st.dictionaries(st.sampled_from(list(Clock)), instant, max_size=len(Clock))
    one = st.builds(
        OrderContext,
        merchant_type=st.sampled_from(list(MerchantType)),
        category=st.sampled_from(_categories(rb)),
        ship_mode=st.sampled_from(list(ShipMode)),
        flags=st.frozensets(st.sampled_from(FLAGS)),
        clocks=clock_map,
    )
    return st.lists(one, min_size=1, max_size=12)


def _order_rows(rb: Rulebook, batch: list[OrderContext]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for i, ctx in enumerate(batch):
        row: dict[str, Any] = {
            "order_no": i,
            "merchant_type": ctx.merchant_type.value,
            "category_key": rb.category_key(ctx.category),
            "ship_mode": ctx.ship_mode.value,
        }
        row |= {f"flag_{f}": f in ctx.flags for f in FLAGS}
        row |= {c.value: _epoch(ctx.clocks.get(c)) for c in Clock}
        rows.append(row)
    schema = pa.schema(
        [("order_no", pa.int64()), ("merchant_type", pa.string()), ("category_key", pa.string()),
         ("ship_mode", pa.string()), *[(f"flag_{f}", pa.bool_()) for f in FLAGS],
         *[(c.value, pa.int64()) for c in Clock]]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def _epoch(moment: datetime | None) -> int | None:
    return epoch_seconds(moment) if moment is not None else None


def _join_sql() -> str:
    keys = ["merchant_type", "category_key", "ship_mode"]
    on = [f"o.{k} = t.{k}" for k in keys]
    on += [f"(t.flag_{f} IS NULL OR o.flag_{f} = t.flag_{f})" for f in FLAGS]
    for c in Clock:
        v = c.value
        on.append(f"(t.{v}_from IS NULL OR o.{v} >= t.{v}_from)")
        on.append(f"(t.{v}_to IS NULL OR o.{v} < t.{v}_to)")
    return (
        "SELECT o.order_no, t.* FROM orders o JOIN rules t ON "
        + " AND ".join(on)
        + " ORDER BY o.order_no, t.parameter"
    )


def _expected(answer: Answer | None) -> tuple[object, ...] | None:
    if answer is None:
        return None
    v = answer.value
    if isinstance(v, Duration):
        value: object = ("duration", v.seconds, v.anchor.value)
    elif isinstance(v, Instant):
        value = ("instant", epoch_seconds(v.at))
    elif isinstance(v, bool):
        value = ("bool", v)
    elif isinstance(v, float):
        value = ("number", v)
    else:
        value = ("modes", ";".join(sorted(m.value for m in v)))
    return (value, answer.cited, ";".join(answer.overridden))


def _found(row: dict[str, Any]) -> tuple[object, ...]:
    kind = row["value_kind"]
    value: object = {
        "duration": (kind, row["value_seconds"], row["value_anchor"]),
        "instant": (kind, row["value_instant"]),
        "bool": (kind, row["value_bool"]),
        "number": (kind, row["value_number"]),
        "modes": (kind, row["value_modes"]),
    }[kind]
    return (value, row["clause_id"], row["overridden"])


def test_table_columns_are_the_agreed_ones(table: pa.Table) -> None:
    names = set(table.column_names)
    assert {"parameter", "merchant_type", "category_key", "ship_mode", "clause_id"} <= names
    assert {f"flag_{f}" for f in FLAGS} <= names
    assert {f"{c.value}_{side}" for c in Clock for side in ("from", "to")} <= names
    assert table.schema.field("pay_time_from").type == pa.int64()
    assert table.num_rows > 0


def test_a_flag_is_null_exactly_where_no_clause_of_the_parameter_scopes_on_it(
    rulebook: Rulebook, table: pa.Table
) -> None:
    con = duckdb.connect()
    con.register("rules", table)
    for parameter in sorted({c.parameter for c in rulebook.clauses if c.parameter}):
        scoped = {f for c in rulebook.clauses if c.parameter == parameter
                  for f, _ in c.scope.flags}  # fmt: skip
        for flag in FLAGS:
            nulls, rows = con.execute(
                f"SELECT count(*) FILTER (flag_{flag} IS NULL), count(*) FROM rules "
                "WHERE parameter = ?",
                [parameter],
            ).fetchall()[0]
            assert nulls == (0 if flag in scoped else rows), (parameter, flag)
    assert table.num_rows < 100_000  # not expanded over the 2^8 flag values (was 2.4 M)


def test_table_and_resolver_agree(rulebook: Rulebook, table: pa.Table) -> None:
    con = duckdb.connect()
    con.register("rules", table)
    sql = _join_sql()
    parameters = sorted({c.parameter for c in rulebook.clauses if c.parameter})

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(orders(rulebook))
    def check(batch: list[OrderContext]) -> None:
        con.register("orders", _order_rows(rulebook, batch))
        found: dict[tuple[int, str], list[tuple[object, ...]]] = {}
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(columns, values, strict=True))
            found.setdefault((row["order_no"], row["parameter"]), []).append(_found(row))
        for i, ctx in enumerate(batch):
            for parameter in parameters:
                matches = found.get((i, parameter), [])
                assert len(matches) <= 1, f"{parameter}: {len(matches)} rows match {ctx}"
                expected = _expected(rulebook.resolve(parameter, ctx))
                got = matches[0] if matches else None
                assert got == expected, f"{parameter} for {ctx}: table {got} != {expected}"

    check()


def test_a_conflicting_cell_stops_compilation(tmp_path: Path) -> None:
    from tests.rulebook.drafts import CONFLICTING

    from lvyue.rulebook import ConflictError

    rb = load_rulebook([write_draft(tmp_path, CONFLICTING)])
    with pytest.raises(ConflictError, match="SF-6"):
        rb.parameter_table()


def test_trace_explains_every_answer(rulebook: Rulebook) -> None:
    """The answer is the one applicable clause nothing overrides; the overridden list is
    every applicable clause something overrides (default-and-exception, seen two ways)."""
    parameters = sorted({c.parameter for c in rulebook.clauses if c.parameter})

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(orders(rulebook))
    def check(batch: list[OrderContext]) -> None:
        for ctx in batch:
            for parameter in parameters:
                answer = rulebook.resolve(parameter, ctx)
                traced = rulebook.trace(parameter, ctx)
                applicable = [t for t in traced if t.applies]
                unknown = [t for t in traced if t.reason.startswith("unknown")]
                if answer is None:
                    assert unknown or not applicable
                    continue
                standing = {t.clause_id for t in applicable if not t.overridden_by}
                beaten = sorted({t.clause_id for t in applicable if t.overridden_by})
                assert answer.clause_id in standing and not unknown
                assert standing == {answer.clause_id, *answer.concurring}
                assert list(answer.overridden) == beaten

    check()
