"""What a draft changes: the regions of order space where two rulebooks answer differently.

A static policy preview (before any order is run): the grid of the richer rulebook is
walked cell by cell and both rulebooks are asked, as the parameter table does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lvyue.rulebook.context import OrderContext
from lvyue.rulebook.errors import ConflictError
from lvyue.rulebook.resolver import Answer, Resolver
from lvyue.rulebook.schema import Clause
from lvyue.rulebook.table import cells, describe
from lvyue.rulebook.values import format_value


@dataclass(frozen=True)
class Change:
    """One kind of change for one parameter, with how many cells it covers and an example."""

    parameter: str
    before: str  # "DR-2a = 24 h after ship_time", "no answer" or "conflict: …"
    after: str
    cells: int
    example: str


def diff_rulebooks(
    before: Resolver,
    after: Resolver,
    by_parameter: Mapping[str, tuple[Clause, ...]],
    category_keys: Sequence[str],
) -> list[Change]:
    """Changes from ``before`` to ``after``; ``by_parameter`` and ``category_keys`` must be
    those of the rulebook with every clause of both (the draft added to the shipped one)."""
    found: dict[tuple[str, str, str], Change] = {}
    for parameter, clauses in sorted(by_parameter.items()):
        for cell in cells(parameter, clauses, category_keys):
            old = _answer(before, parameter, cell.ctx)
            new = _answer(after, parameter, cell.ctx)
            if old == new:
                continue
            key = (parameter, old, new)
            seen = found.get(key)
            example = seen.example if seen else describe(cell.ctx)
            found[key] = Change(parameter, old, new, (seen.cells if seen else 0) + 1, example)
    return list(found.values())


def _answer(resolver: Resolver, parameter: str, ctx: OrderContext) -> str:
    try:
        answer: Answer | None = resolver.resolve(parameter, ctx)
    except ConflictError as exc:
        return f"conflict: {' vs '.join(exc.clause_ids)}"
    if answer is None:
        return "no answer"
    return f"{answer.clause_id} = {format_value(answer.value)}"
