"""Alembic, driven programmatically: ``upgrade(url)`` brings a database to the head revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from lvyue.store.db import database_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ``%`` must be doubled for ConfigParser interpolation (passwords may contain it).
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (idempotent: an up-to-date database is kept)."""
    command.upgrade(alembic_config(url), revision)
