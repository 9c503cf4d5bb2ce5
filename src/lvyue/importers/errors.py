"""Errors of the importers: one line naming the file, row and field at fault."""

from __future__ import annotations


class FileRejected(ValueError):
    """A file we cannot import at all (unreadable, wrong encoding, missing header)."""


class RowError(ValueError):
    """One bad row/record. ``str()`` is ``source row N, field: message``."""

    def __init__(self, field: str, message: str, *, source: str = "", row: int | None = None):
        self.field = field
        self.message = message
        self.source = source
        self.row = row
        super().__init__(self._text())

    def _text(self) -> str:
        where = " ".join(p for p in (self.source, f"row {self.row}" if self.row else "") if p)
        return (
            f"{where}, {self.field}: {self.message}" if where else f"{self.field}: {self.message}"
        )

    def at(self, source: str, row: int) -> RowError:
        """The same error, located."""
        return RowError(self.field, self.message, source=source, row=row)
