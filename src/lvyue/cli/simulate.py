"""CLI commands for the simulate capability: ``lvyue simulate``."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"


def simulate(
    orders: int = typer.Option(100_000, "--orders", "-n", min=1, help="How many orders."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed: same seed, same files."),
    out: Path = typer.Option(..., "--out", "-o", help="Facts directory to write."),
    fmt: OutputFormat = typer.Option(OutputFormat.PARQUET, "--format", "-f", help="File format."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Write a synthetic marketplace as a facts directory.

    Orders, tracking, after-sales, reports, BTAS inspections, merchants, accounts, labels and
    ground truth; deterministic for a seed. The model is described in docs/simulator.md.
    """
    from lvyue.sim import write_facts

    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        counts = write_facts(out, orders, seed, fmt.value, progress=not quiet)
    except (OSError, ValueError) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from error
    if quiet:
        return
    table = Table(title=f"{out} ({fmt.value}, seed {seed}, {time.perf_counter() - started:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the main app."""
    app.command(name="simulate")(simulate)
