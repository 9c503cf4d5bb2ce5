"""Command-line interface (Typer + Rich): presentation only."""
