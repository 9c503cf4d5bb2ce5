"""Registries other capabilities plug into without the service importing their internals.

- Ship checks: run before an order is shipped through the API; a check refuses by raising
  :class:`ShipRefused` naming the clause (e.g. BTAS: BT-3, no passed inspection code).
- Sweeps: periodic jobs ``lvyue worker`` runs once per period (see ``lvyue.store.sweeps``).

Nothing registers by being imported: the composition roots (``lvyue.api.create_app`` and
``lvyue worker``) call each capability's ``register()`` (``lvyue.workflows.hooks.register``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from lvyue.model.rows import ShipmentIn
from lvyue.store.refusals import RowRejected
from lvyue.store.tables import Order


class ShipRefused(RowRejected):
    """Shipping refused by a rule; the API answers 422 with the clause and the message (in a
    batch the row is quarantined with both)."""

    def __init__(self, clause: str, message: str) -> None:
        super().__init__(f"{clause}: {message}")
        self.clause = clause
        self.message = message


ShipCheck = Callable[[Session, Order, ShipmentIn], None]
SweepFunction = Callable[[Session, datetime], dict[str, Any]]
Every = Literal["minute", "hour", "day", "week"]


@dataclass(frozen=True)
class Sweep:
    """A periodic job: ``run(session, now)`` returns a small summary; its writes must be
    idempotent by themselves too (unique constraints on what it records)."""

    name: str
    every: Every
    run: SweepFunction


_SHIP_CHECKS: dict[str, ShipCheck] = {}
_SWEEPS: dict[str, Sweep] = {}


def register_ship_check(name: str) -> Callable[[ShipCheck], ShipCheck]:
    def decorate(check: ShipCheck) -> ShipCheck:
        _SHIP_CHECKS[name] = check
        return check

    return decorate


def register_sweep(name: str, every: Every) -> Callable[[SweepFunction], SweepFunction]:
    def decorate(run: SweepFunction) -> SweepFunction:
        _SWEEPS[name] = Sweep(name, every, run)
        return run

    return decorate


def unregister_sweep(name: str) -> None:
    """Forget a sweep (tests register temporary ones)."""
    _SWEEPS.pop(name, None)


class HooksNotRegistered(RuntimeError):
    """Shipping was attempted before any ship check was registered: the caller skipped the
    composition step, and shipping without the checks would bypass the rules."""


def ship_checks() -> list[ShipCheck]:
    if not _SHIP_CHECKS:
        raise HooksNotRegistered(
            "no ship check registered: call lvyue.workflows.hooks.register() first "
            "(create_app and the worker do)"
        )
    return list(_SHIP_CHECKS.values())


def sweeps() -> list[Sweep]:
    return [_SWEEPS[name] for name in sorted(_SWEEPS)]
