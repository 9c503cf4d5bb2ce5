"""The resolver: which clause governs a parameter for one order (default and exception).

Among the clauses that apply to an order, a clause that another applicable clause is an
exception to (directly or through a chain of exceptions, as in Catala's exception trees)
drops out. Two clauses left with different values are a conflict, never a silent pick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from lvyue.rulebook.context import Clock, OrderContext
from lvyue.rulebook.errors import ConflictError
from lvyue.rulebook.schema import Clause, in_subtree
from lvyue.rulebook.values import Duration, Instant, Value, format_value


@dataclass(frozen=True)
class Answer:
    """A cited answer (GN-3): the value, the clause that gave it and the clauses it overrode."""

    parameter: str
    value: Value
    clause_id: str
    announcement: str
    overridden: tuple[str, ...]
    clock: Clock  # the clock the winning clause's window is read on
    revision: str | None = None  # the winning clause's version label (BT-15), None = original
    concurring: tuple[str, ...] = ()  # other surviving clauses that give the same value
    via: tuple[str, ...] = ()  # clauses that cancelled an exception, so the baseline applies

    @property
    def cited(self) -> str:
        """What a verdict cites: the clause and the version that decided (R-1@r2), after any
        clause that cancelled an exception (``VF-2;DR-1a``: VF-2 cancelled NY-1)."""
        own = f"{self.clause_id}@{self.revision}" if self.revision else self.clause_id
        return ";".join((*self.via, own))


@dataclass(frozen=True)
class ClauseTrace:
    """Why one clause did or did not decide a parameter for an order."""

    clause_id: str
    announcement: str
    applies: bool
    reason: str
    overridden_by: tuple[str, ...]
    value: Value | None
    revision: str | None


class _Unknown(Exception):
    """A clause in scope reads its window on a clock the order has not reached."""


def exception_closure(clauses: Iterable[Clause]) -> dict[str, frozenset[str]]:
    """For each clause id, every clause it is an exception to, directly or transitively."""
    direct: dict[str, set[str]] = {}
    for c in clauses:
        direct.setdefault(c.id, set()).update(c.exception_to)
    closure: dict[str, frozenset[str]] = {}

    def reach(cid: str) -> frozenset[str]:
        if cid not in closure:
            out: set[str] = set()
            for target in direct.get(cid, ()):
                out |= {target} | reach(target)
            closure[cid] = frozenset(out)
        return closure[cid]

    for cid in direct:
        reach(cid)
    return closure


def check_clause(clause: Clause, ctx: OrderContext) -> str | None:
    """None when the clause applies to the order, else why not. Raises _Unknown."""
    mismatch = clause.scope.mismatch(ctx)
    if mismatch:
        return f"out of scope: {mismatch}"
    if not clause.effective.bounded:
        return None
    moment = ctx.clocks.get(clause.clock)
    if moment is None:
        raise _Unknown(f"clock {clause.clock.value} missing")
    if not clause.window.contains(moment):
        return f"out of window on clock {clause.clock.value}"
    if not clause.valid.contains(moment):
        later = clause.valid.start is not None and moment < clause.valid.start
        return "version not yet in force" if later else "superseded version"
    return None


class Resolver:
    """Answers for one order from the clauses of each parameter (GN-1: announcements layered
    over the daily rules; GN-3: every answer names its clause)."""

    def __init__(self, by_parameter: Mapping[str, tuple[Clause, ...]]) -> None:
        self._by_parameter = by_parameter
        self._closure = exception_closure(c for cs in by_parameter.values() for c in cs)

    def beats(self, winner: str, loser: str) -> bool:
        return loser in self._closure.get(winner, frozenset())

    def resolve(self, parameter: str, ctx: OrderContext) -> Answer | None:
        try:
            applicable = [
                c for c in self._by_parameter.get(parameter, ()) if check_clause(c, ctx) is None
            ]
        except _Unknown:
            return None
        cancelled = {t for c in applicable for t in c.cancels}
        via = tuple(sorted({c.id for c in applicable
                            if any(a.id in c.cancels for a in applicable)}))  # fmt: skip
        dropped = {c.id for c in applicable if c.id in cancelled}
        applicable = [c for c in applicable if not c.cancels and c.id not in cancelled]
        if not applicable:
            return None
        winners = [w for w in applicable if not any(self.beats(o.id, w.id) for o in applicable)]
        winners.sort(key=lambda c: c.id)
        first = winners[0]
        for other in winners[1:]:
            if other.value != first.value:
                assert first.value is not None and other.value is not None
                detail = f"{format_value(first.value)} vs {format_value(other.value)}"
                raise ConflictError(parameter, (first.id, other.id), detail)
        assert first.value is not None
        overridden = sorted(({c.id for c in applicable} - {w.id for w in winners}) | dropped)
        return Answer(
            parameter=parameter,
            value=first.value,
            clause_id=first.id,
            announcement=first.announcement,
            overridden=tuple(overridden),
            clock=first.clock,
            revision=first.revision,
            concurring=tuple(w.id for w in winners[1:]),
            via=via,
        )

    def trace(self, parameter: str, ctx: OrderContext) -> list[ClauseTrace]:
        clauses = self._by_parameter.get(parameter, ())
        reasons: dict[int, str | None] = {}
        for i, c in enumerate(clauses):
            try:
                reasons[i] = check_clause(c, ctx)
            except _Unknown as exc:
                reasons[i] = f"unknown: {exc}"
        applicable = [c for i, c in enumerate(clauses) if reasons[i] is None]
        cancelled = {t for c in applicable for t in c.cancels}
        live = [c for c in applicable if not c.cancels and c.id not in cancelled]
        out = []
        for i, c in enumerate(clauses):
            by = tuple(sorted({o.id for o in live if self.beats(o.id, c.id)}))
            cancelled_by = sorted(o.id for o in applicable if c.id in o.cancels)
            applies = reasons[i] is None
            reason = reasons[i] or (f"overridden by {', '.join(by)}" if by else "applies")
            if applies and cancelled_by:
                by = tuple(sorted({*by, *cancelled_by}))
                reason = f"cancelled by {', '.join(cancelled_by)} (the clauses left decide)"
            elif applies and c.cancels:
                reason = f"applies: cancels {', '.join(c.cancels)} (the clauses left decide)"
            out.append(ClauseTrace(c.id, c.announcement, applies, reason, by, c.value, c.revision))
        return out


def deadline_of(answer: Answer, ctx: OrderContext) -> datetime | None:
    """The instant a time-limit answer means for this order (aware UTC)."""
    if isinstance(answer.value, Instant):
        return answer.value.at
    if isinstance(answer.value, Duration):
        anchor = ctx.clocks.get(answer.value.anchor)
        if anchor is None:
            return None
        return anchor + timedelta(seconds=answer.value.seconds)
    raise TypeError(f"{answer.parameter} is not a time limit ({format_value(answer.value)})")


def deepest_prefix(category: str, prefixes: Iterable[str]) -> str:
    best = ""
    for p in prefixes:
        if in_subtree(category, p) and len(p) > len(best):
            best = p
    return best
