"""Issue 13, correctness: the service's live verdicts equal ``lvyue evaluate`` on the same
facts. The 10,000 simulated orders of ``test_service_agrees_with_batch`` (its loading,
reused) go through the API's bulk ingestion, which marks every order; the worker judges them
three days before the instant of comparison, then time moves on and the worker judges only
what was due (deadlines, at-risk horizons, facts recorded ahead of the clock); the stored
live verdicts then equal those of ``lvyue evaluate --as-of``, row for row."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import func, select
from typer.testing import CliRunner

from lvyue.cli.main import app as cli
from lvyue.model import parse_instant
from lvyue.model.time import epoch_seconds
from lvyue.store import make_engine, make_session_factory, session_scope
from lvyue.store.live_tables import LiveMark, LiveVerdict
from lvyue.workflows import config
from lvyue.workflows.live import drain

_spec = importlib.util.spec_from_file_location(
    "agrees_with_batch", Path(__file__).with_name("test_service_agrees_with_batch.py")
)
assert _spec is not None and _spec.loader is not None
agrees = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agrees)
world = agrees.world  # the module-scoped fixture: facts + a service database built from them
Row = agrees.Row


def test_live_verdicts_equal_lvyue_evaluate_after_time_moves(
    world: tuple[str, Path], tmp_path: Path
) -> None:
    url, facts = world
    as_of = parse_instant(agrees.AS_OF)
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(LiveMark)) == agrees.ORDERS  # all marked
    first = drain(factory, config.rules(), as_of - timedelta(days=3))
    assert first.judged == agrees.ORDERS
    later = drain(factory, config.rules(), as_of)  # only what time alone may have changed
    assert 0 < later.judged < agrees.ORDERS
    with session_scope(factory) as s:
        live: list[Row] = [
            (v.order_id, v.aftersale_id, v.check, v.status, _epoch(v.deadline),
             _epoch(v.done_at), v.clauses, v.reason)
            for v in s.scalars(select(LiveVerdict))
        ]  # fmt: skip
        assert not s.scalar(select(func.count()).where(LiveMark.dirty.is_(True)))
    factory.kw["bind"].dispose()
    out = tmp_path / "batch.parquet"
    done = CliRunner().invoke(
        cli, ["evaluate", str(facts), "--as-of", agrees.AS_OF, "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    batch: list[Row] = [
        (v["order_id"], v["aftersale_id"], v["check"], v["status"], _epoch(v["deadline"]),
         _epoch(v["done_at"]), v["clauses"], v["reason"])
        for v in pq.read_table(out).to_pylist()
    ]  # fmt: skip
    assert len(batch) > 4 * agrees.ORDERS
    missing, extra = sorted(set(batch) - set(live)), sorted(set(live) - set(batch))
    assert (missing[:5], extra[:5]) == ([], []), (
        f"{len(missing)} batch-only, {len(extra)} live-only"
    )
    assert sorted(batch) == sorted(live)
    assert {"ok", "violated", "pending"} <= {row[3] for row in live}


def _epoch(moment: object) -> int | None:
    return None if moment is None else epoch_seconds(moment)  # type: ignore[arg-type]
