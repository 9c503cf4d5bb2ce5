"""Explicit state machines: states, allowed transitions, and a log entry per transition.

Every workflow declares its transitions as data (source, event, target, clause). Firing an
event either returns the log entry of the step (actor, time, clause) or refuses with a
``Conflict`` naming the states that would allow it. Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lvyue.model.time import as_utc


class Refusal(Exception):
    """A request the rules refuse (HTTP 422), naming the clause and, where known, the field."""

    status = 422

    def __init__(self, message: str, *, clause: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.clause = clause
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"error": self.message, "clause": self.clause, "field": self.field}


class Conflict(Refusal):
    """A request that contradicts the current state (HTTP 409): wrong state, code used, …"""

    status = 409


@dataclass(frozen=True)
class Transition:
    """One allowed step. ``clause`` is the requirement that makes the step exist."""

    source: str
    event: str
    target: str
    clause: str


@dataclass(frozen=True)
class Step:
    """The log entry of a fired transition (an audit record with its clause, GN-3)."""

    workflow: str
    subject_id: str
    event: str
    source: str
    target: str
    actor: str
    at: datetime
    clause: str
    detail: str = ""


class Machine:
    """A named state machine over plain string states."""

    def __init__(self, name: str, initial: str, transitions: Iterable[Transition]) -> None:
        self.name = name
        self.initial = initial
        self.transitions = tuple(transitions)
        self._table = {(t.source, t.event): t for t in self.transitions}
        if len(self._table) != len(self.transitions):
            raise ValueError(f"{name}: two transitions share a (state, event) pair")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(
            {self.initial}
            | {t.source for t in self.transitions}
            | {t.target for t in self.transitions}
        )

    def events_from(self, state: str) -> list[str]:
        return sorted(t.event for t in self.transitions if t.source == state)

    def can(self, state: str, event: str) -> bool:
        return (state, event) in self._table

    def require(self, state: str, event: str, subject_id: str) -> Transition:
        """The transition for ``event`` in ``state``; ``Conflict`` naming the allowed ones."""
        transition = self._table.get((state, event))
        if transition is None:
            allowed = ", ".join(self.events_from(state)) or "none"
            raise Conflict(
                f"{self.name} {subject_id}: cannot {event!r} in state {state!r} "
                f"(allowed: {allowed})",
                field="state",
            )
        return transition

    def fire(
        self,
        state: str,
        event: str,
        *,
        subject_id: str,
        actor: str,
        at: datetime,
        clause: str | None = None,
        detail: str = "",
    ) -> Step:
        """The step taking ``state`` through ``event``; ``Conflict`` if it is not allowed.

        ``clause`` overrides the transition's own clause when a rule decided the step
        (e.g. the clause of the deadline that expired).
        """
        transition = self.require(state, event, subject_id)
        if at.tzinfo is None:
            raise ValueError("transition time must be timezone-aware")
        return Step(
            workflow=self.name,
            subject_id=subject_id,
            event=event,
            source=state,
            target=transition.target,
            actor=actor,
            at=as_utc(at),
            clause=clause or transition.clause,
            detail=detail,
        )
