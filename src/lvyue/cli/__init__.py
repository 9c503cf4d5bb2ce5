"""Command-line interface (Typer + Rich): presentation only."""

from __future__ import annotations

from typing import Any

from rich.console import Console


class Terminal:
    """A rich Console made afresh for each use, so it reads the terminal's width (COLUMNS) when
    it prints. Rich fixes COLUMNS when a Console is built: a module-level one first built while
    a command ran under COLUMNS=80 kept 80 for every later command in that process."""

    def __init__(self, **options: Any) -> None:
        self._options = options

    def make(self) -> Console:
        """The Console for this moment's terminal (for a progress bar to hold)."""
        return Console(**self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.make(), name)
