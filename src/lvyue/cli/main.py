"""The `lvyue` command. Each capability registers its commands from its own module here;
this file only assembles them (presentation only: no business rules in cli/)."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="lvyue",
    help="履约 lvyue — fulfilment rules as data, compliance engine, logistics diagnosis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# One module per capability; each exposes ``register(app)``.
_COMMAND_MODULES = (
    "rules",
    "imports",
    "simulate",
    "engine",
    "service",
    "diagnosis",
    "indicators",
    "creators",
)


@app.command()
def version() -> None:
    """Print the lvyue version."""
    from importlib.metadata import version as _v

    typer.echo(_v("lvyue"))


for _name in _COMMAND_MODULES:
    importlib.import_module(f"lvyue.cli.{_name}").register(app)


def main() -> None:
    app()
