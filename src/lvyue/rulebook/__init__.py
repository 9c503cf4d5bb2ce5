"""Rulebook: announcements as effective-dated clauses with default-and-exception semantics.

    from lvyue.rulebook import load_rulebook, order_context
    rb = load_rulebook()
    ctx = order_context({"category": "鲜花速递/花卉仿真/绿植园艺>生活鲜花",
                         "ship_mode": "spot", "pay_time": "2024-02-10 10:00:00"})
    when, answer = rb.deadline("ship.deadline", ctx)   # 48 h after payment, VF-2;DR-1a
    answer.overridden                                   # ('DR-1a', 'NY-1')

See docs/rulebook.md for the announcement schema and the parameter-table contract.
"""

from lvyue.rulebook.context import FLAGS, Clock, OrderContext, order_context
from lvyue.rulebook.diff import Change
from lvyue.rulebook.errors import ConflictError, RulebookError
from lvyue.rulebook.resolver import Answer, ClauseTrace
from lvyue.rulebook.rulebook import Rulebook, load_rulebook
from lvyue.rulebook.schema import Announcement, Clause, ClauseKind, Scope, SourceKind, Window
from lvyue.rulebook.serialize import (
    announcement_json,
    answer_json,
    clause_json,
    conflict_json,
    trace_json,
)
from lvyue.rulebook.table import Conflict
from lvyue.rulebook.values import Duration, Instant, Value, ValueKind, format_value

__all__ = [
    "FLAGS",
    "Announcement",
    "Answer",
    "Change",
    "Clause",
    "ClauseKind",
    "ClauseTrace",
    "Clock",
    "Conflict",
    "ConflictError",
    "Duration",
    "Instant",
    "OrderContext",
    "Rulebook",
    "RulebookError",
    "Scope",
    "SourceKind",
    "Value",
    "ValueKind",
    "Window",
    "announcement_json",
    "answer_json",
    "clause_json",
    "conflict_json",
    "format_value",
    "load_rulebook",
    "order_context",
    "trace_json",
]
