"""Fixtures of the diagnosis tests: a small synthetic marketplace (synth.py, known poor
outlet/route and a known settlement model) and the project's simulator."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import synth

from lvyue.diagnosis import ShipmentSource, build


@pytest.fixture(scope="session")
def market() -> synth.Synth:
    return synth.make(orders=20_000, merchants=40, weeks=6, seed=7)


@pytest.fixture(scope="session")
def source(market: synth.Synth) -> ShipmentSource:
    return build(market.facts)


@pytest.fixture(scope="session")
def facts_dir(market: synth.Synth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic marketplace as a facts directory (Parquet)."""
    out = tmp_path_factory.mktemp("facts")
    for name, table in market.facts.items():
        pq.write_table(table, out / f"{name}.parquet")
    return out


@pytest.fixture(scope="session")
def sim_tables() -> dict[str, pa.Table]:
    from lvyue.sim import simulate

    return simulate(50_000, 7)
