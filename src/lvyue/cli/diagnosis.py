"""CLI commands for the diagnosis capability (being built)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
