"""Deterministic synthetic marketplace (模拟市场) in the facts format (docs/formats.md).

>>> tables = simulate(orders=2_000, seed=7)            # small: in memory
>>> write_facts("facts/", orders=10_000_000, seed=7)   # big: chunked to Parquet or CSV

The generative model, and the ground truth it gives the diagnosis, is in docs/simulator.md;
the true outcome model is ``lvyue.sim.truth``.
"""

from lvyue.sim import truth
from lvyue.sim.facts import CHUNK_SIZE, TABLES, Format, simulate, write_facts

__all__ = ["CHUNK_SIZE", "TABLES", "Format", "simulate", "truth", "write_facts"]
