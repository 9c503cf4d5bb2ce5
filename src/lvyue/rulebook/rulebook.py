"""The Rulebook: every announcement loaded, validated and ready to answer questions."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from lvyue.rulebook.context import OrderContext
from lvyue.rulebook.diff import Change, diff_rulebooks
from lvyue.rulebook.loader import Loaded, load, shipped_dir
from lvyue.rulebook.resolver import Answer, ClauseTrace, Resolver, deadline_of, deepest_prefix
from lvyue.rulebook.schema import Announcement, Clause, ParameterSpec
from lvyue.rulebook.table import Conflict, build_table, find_conflicts


class Rulebook:
    """Announcements as clauses; resolve, trace, check and compile them."""

    def __init__(self, loaded: Loaded) -> None:
        self.announcements: tuple[Announcement, ...] = loaded.announcements
        self.clauses: tuple[Clause, ...] = loaded.clauses
        self.registry: dict[str, ParameterSpec] = dict(loaded.parameters)
        by_parameter: dict[str, list[Clause]] = {}
        for c in self.clauses:
            if c.parameter is not None:
                by_parameter.setdefault(c.parameter, []).append(c)
        self._by_parameter = {p: tuple(cs) for p, cs in by_parameter.items()}
        self._resolver = Resolver(self._by_parameter)
        prefixes = {p for c in self.clauses for p in (c.scope.categories or ())}
        self.category_keys: tuple[str, ...] = ("", *sorted(prefixes))
        self._table: pa.Table | None = None

    # -- lookup -----------------------------------------------------------------------------

    def clause(self, clause_id: str) -> Clause:
        """The latest version of a clause; KeyError if there is none."""
        versions = self.clause_versions(clause_id)
        if not versions:
            raise KeyError(clause_id)
        return versions[-1]

    def clause_versions(self, clause_id: str) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.id == clause_id)

    def announcement(self, announcement_id: str) -> Announcement:
        for a in self.announcements:
            if a.id == announcement_id:
                return a
        raise KeyError(announcement_id)

    def parameters(self) -> list[str]:
        """Every registered parameter name, sorted (some may have no clause yet)."""
        return sorted(self.registry)

    def category_key(self, category: str) -> str:
        """The deepest category prefix any scope uses that contains ``category`` ('' if none)."""
        return deepest_prefix(category, self.category_keys)

    # -- answers ----------------------------------------------------------------------------

    def resolve(self, parameter: str, ctx: OrderContext) -> Answer | None:
        """The governing clause's value, or None (no clause applies, or a clock is missing).

        Raises ConflictError naming both clauses when two remain with different values.
        """
        self._known(parameter)
        return self._resolver.resolve(parameter, ctx)

    def deadline(self, parameter: str, ctx: OrderContext) -> tuple[datetime | None, Answer | None]:
        """The deadline a time-limit parameter sets for this order, with its cited answer."""
        answer = self.resolve(parameter, ctx)
        if answer is None:
            return None, None
        return deadline_of(answer, ctx), answer

    def trace(self, parameter: str, ctx: OrderContext) -> list[ClauseTrace]:
        self._known(parameter)
        return self._resolver.trace(parameter, ctx)

    # -- whole-rulebook views ---------------------------------------------------------------

    def check_conflicts(self) -> list[Conflict]:
        """Every pair of clauses that both decide some order with different values."""
        return find_conflicts(self._resolver, self._by_parameter, self.category_keys)

    def check(self) -> tuple[list[Conflict], list[Conflict]]:
        """Conflicts, and ties: pairs that both decide some order with the same value and no
        exception between them (not an error, the lowest id is cited, but worth a look)."""
        ties: list[Conflict] = []
        conflicts = find_conflicts(self._resolver, self._by_parameter, self.category_keys, ties)
        return conflicts, ties

    def diff(self, other: Rulebook) -> list[Change]:
        """Where ``other`` (e.g. this rulebook plus a draft) answers differently from this one."""
        merged: dict[str, tuple[Clause, ...]] = {}
        for source in (self._by_parameter, other._by_parameter):
            for parameter, clauses in source.items():
                merged[parameter] = merged.get(parameter, ()) + clauses
        keys = sorted(set(self.category_keys) | set(other.category_keys))
        return diff_rulebooks(self._resolver, other._resolver, merged, keys)

    def parameter_table(self) -> pa.Table:
        """The batch form; built once. Raises ConflictError if any cell is in conflict."""
        if self._table is None:
            self._table = build_table(self._resolver, self._by_parameter, self.category_keys)
        return self._table

    def _known(self, parameter: str) -> None:
        if parameter not in self.registry:
            raise KeyError(f"unknown parameter {parameter!r}")


def load_rulebook(extra_dirs: Sequence[Path] = (), include_shipped: bool = True) -> Rulebook:
    """Load the shipped announcements plus draft directories. Raises RulebookError.

    The shipped rulebook alone is loaded once and cached.
    """
    if not extra_dirs and include_shipped:
        return _shipped()
    dirs = [shipped_dir()] if include_shipped else []
    return Rulebook(load([*dirs, *(Path(d) for d in extra_dirs)]))


@functools.cache
def _shipped() -> Rulebook:
    return Rulebook(load([shipped_dir()]))
