"""Issue 12 item 6: no published signing key. The service, the server command and the worker
refuse to start without a usable LVYUE_INSPECTION_SECRET (they used to fall back to a value
printed in the source); the demo makes one of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lvyue.api import create_app
from lvyue.cli.main import app
from lvyue.store import upgrade
from lvyue.workflows.config import SECRET_ENV, MissingSecret

runner = CliRunner()
PUBLISHED_DEFAULT = "lvyue-development-inspection-secret"


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'secret.db'}"
    upgrade(url)
    return url


@pytest.mark.parametrize(
    ("value", "reason"),
    [(None, "is not set"), ("short", "too short"), (PUBLISHED_DEFAULT, "published")],
)
def test_the_app_refuses_to_start_without_a_usable_secret(
    database: str, monkeypatch: pytest.MonkeyPatch, value: str | None, reason: str
) -> None:
    if value is None:
        monkeypatch.delenv(SECRET_ENV, raising=False)
    else:
        monkeypatch.setenv(SECRET_ENV, value)
    with pytest.raises(MissingSecret, match=reason):
        create_app(database)


def test_the_app_starts_with_a_secret_of_sixteen_characters(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "x" * 16)
    create_app(database).state.engine.dispose()
    monkeypatch.setenv(SECRET_ENV, "x" * 15)
    with pytest.raises(MissingSecret):
        create_app(database)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_exit_2_naming_the_variable(database: str, command: str) -> None:
    result = runner.invoke(
        app, [command, "--url", database], env={SECRET_ENV: None, "NO_COLOR": "1"}
    )
    assert result.exit_code == 2, result.output
    assert SECRET_ENV in result.output and "is not set" in result.output
    assert "Traceback" not in result.output


def test_the_demo_generates_a_secret_when_none_is_set(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["demo", "--no-serve", "--dir", str(tmp_path / "demo"), "--orders", "60"],
        env={SECRET_ENV: None, "NO_COLOR": "1", "COLUMNS": "240"},
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if SECRET_ENV in x)
    secret = line.rsplit(" ", 1)[-1]
    assert len(secret) == 64 and secret != PUBLISHED_DEFAULT
