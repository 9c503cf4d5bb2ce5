"""What the workflows ask of the rulebook: a cited value or a cited deadline for an order.

The workflows never compute a deadline or a permission themselves (GN-3); they ask the
rulebook through this narrow protocol, which ``lvyue.rulebook``'s loaded rulebook satisfies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from lvyue.rulebook.context import OrderContext


class CitedAnswer(Protocol):
    """A resolved parameter: its value and the clause that decided it."""

    @property
    def value(self) -> Any: ...

    @property
    def clause_id(self) -> str: ...


class Rules(Protocol):
    """The part of the rulebook the workflows call."""

    def resolve(self, parameter: str, ctx: OrderContext, /) -> Any:
        """A cited answer, or None when no clause applies (or a clock is missing)."""

    def deadline(self, parameter: str, ctx: OrderContext, /) -> tuple[datetime | None, Any]:
        """(deadline, cited answer), or (None, None) when no clause applies."""


def cited(answer: Any) -> CitedAnswer | None:
    """The answer, checked to carry a value and a clause (fails loudly on a contract drift)."""
    if answer is None:
        return None
    if not hasattr(answer, "value") or not hasattr(answer, "clause_id"):
        raise TypeError(f"rulebook answer without value/clause_id: {answer!r}")
    return answer  # type: ignore[no-any-return]
