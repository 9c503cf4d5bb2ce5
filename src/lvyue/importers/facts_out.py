"""Writing facts tables (CSV, header, ISO 8601 times) atomically, with quarantine files.

Every table of one import is first written to a temporary file in the target directory and
only renamed into place once all of them are complete, so a failure leaves nothing
half-written. Rows already in a table are kept; a row with the same key is replaced, so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lvyue.importers.errors import FileRejected
from lvyue.model.files import commit, temporary_beside

Row = Mapping[str, str]
Key = Callable[[Row], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A rejected input row: where it came from, what it was, and why."""

    source: str
    row: int
    raw: Mapping[str, str]
    error: str


class FactsWriter:
    """Stage tables, then ``commit()`` them all at once (or ``discard()``)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._staged: list[tuple[Path, Path]] = []  # (temporary, final)

    def stage(self, table: str, rows: Iterable[Row], columns: Sequence[str], key: Key) -> int:
        """Merge ``rows`` into ``table`` (new rows win on equal key); returns the table size."""
        final = self.out_dir / f"{table}.csv"
        if (self.out_dir / f"{table}.parquet").exists():  # two files for one table: ambiguous
            raise FileRejected(
                f"{self.out_dir / table}.parquet exists: import into a CSV directory"
            )
        merged: dict[tuple[str, ...], Row] = {}
        header = list(columns)
        if final.exists():
            with final.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                header += [c for c in reader.fieldnames or () if c not in header]
                for old in reader:
                    merged[key(old)] = old
        for row in rows:
            merged[key(row)] = row
        self._write(final, header, merged.values())
        return len(merged)

    def stage_quarantine(self, table: str, bad: Sequence[Quarantined]) -> Path | None:
        """``quarantine_<table>.csv``: source, row, error, then the raw columns."""
        if not bad:
            return None
        raw_columns: list[str] = []
        for item in bad:
            raw_columns += [c for c in item.raw if c not in raw_columns]
        header = ["source", "row", "error", *raw_columns]
        final = self.out_dir / f"quarantine_{table}.csv"
        rows = ({"source": q.source, "row": str(q.row), "error": q.error, **q.raw} for q in bad)
        self._write(final, header, rows)
        return final

    def _write(self, final: Path, header: Sequence[str], rows: Iterable[Row]) -> None:
        temporary = temporary_beside(final)
        self._staged.append((temporary, final))
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    def commit(self) -> None:
        for temporary, final in self._staged:
            commit(temporary, final)
        self._staged.clear()

    def discard(self) -> None:
        for temporary, _ in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged.clear()
