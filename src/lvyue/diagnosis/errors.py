"""Errors of the diagnosis capability: one line each, naming what is at fault."""

from __future__ import annotations


class DiagnosisError(ValueError):
    """Bad input to a diagnosis (a missing column, an unknown week, an empty period)."""


class CoverageError(DiagnosisError):
    """A coverage file that cannot be imported; ``rows`` lists the offending rows."""

    def __init__(self, message: str, rows: list[int] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []
