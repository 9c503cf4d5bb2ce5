"""Errors the rulebook raises. Their ``str`` is one line, fit for a CLI."""

from __future__ import annotations


class RulebookError(Exception):
    """A malformed announcement: the message names the file, the clause and the field."""

    def __init__(self, file: str, clause: str | None, field: str | None, problem: str) -> None:
        self.file = file
        self.clause = clause
        self.field = field
        self.problem = problem
        where = [file]
        if clause:
            where.append(f"clause {clause}")
        if field:
            where.append(f"field {field}")
        super().__init__(f"{': '.join(where)}: {problem}")


class ConflictError(Exception):
    """Two applicable clauses, neither an exception to the other, give different values."""

    def __init__(self, parameter: str, clause_ids: tuple[str, ...], detail: str) -> None:
        self.parameter = parameter
        self.clause_ids = clause_ids
        super().__init__(f"conflict on {parameter}: {' vs '.join(clause_ids)} ({detail})")
