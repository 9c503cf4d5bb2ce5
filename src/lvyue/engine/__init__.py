"""Compliance engine: every order held to the rule in force, one order online or millions in
batch (Ibis on DuckDB or PySpark), every verdict citing the clauses that decided it."""

from lvyue.engine.batch import Run, evaluate_batch, evaluate_file
from lvyue.engine.duck import BATCH_COLUMNS
from lvyue.engine.online import DEFAULT_HORIZON, evaluate_order
from lvyue.engine.order import OrderFacts, iter_order_facts, order_facts
from lvyue.engine.verdict import VERDICT_SCHEMA, Verdict, sort_verdicts, verdicts_table

__all__ = [
    "BATCH_COLUMNS",
    "DEFAULT_HORIZON",
    "VERDICT_SCHEMA",
    "OrderFacts",
    "Run",
    "Verdict",
    "evaluate_batch",
    "evaluate_file",
    "evaluate_order",
    "iter_order_facts",
    "order_facts",
    "sort_verdicts",
    "verdicts_table",
]
