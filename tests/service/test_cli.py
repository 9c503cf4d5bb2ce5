"""The service's commands: db upgrade, worker --once, demo --no-serve (SQLite)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lvyue.api import create_app
from lvyue.cli.main import app
from lvyue.diagnosis import kept

runner = CliRunner()
WIDE = {"COLUMNS": "240", "NO_COLOR": "1"}
NARROW = {"COLUMNS": "80", "NO_COLOR": "1"}  # tokens must still print whole, to be copied


def test_db_upgrade_and_worker_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgraded = runner.invoke(app, ["db", "upgrade", "--url", url], env=WIDE)
    assert upgraded.exit_code == 0, upgraded.output
    assert "database at head" in upgraded.output
    first = runner.invoke(app, ["worker", "--once", "--url", url], env=WIDE)
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["worker", "--once", "--url", url], env=WIDE)
    assert again.exit_code == 0
    assert "claimed elsewhere" in again.output or "no sweeps registered" in again.output


def test_unreachable_database_is_one_line_and_exit_2() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = runner.invoke(app, ["db", "upgrade", "--url", url], env=WIDE)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "cannot migrate" in result.output


def test_demo_builds_a_database_and_prints_working_tokens(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = runner.invoke(
        app, ["demo", "--no-serve", "--dir", str(directory), "--orders", "120"], env=NARROW
    )
    assert result.exit_code == 0, result.output
    assert "demo data (simulator)" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("│ operator ")]
    found = re.search(r"lvy_[A-Za-z0-9_-]{40,}", lines[0])
    assert found is not None
    demo_app = create_app(f"sqlite:///{directory / 'lvyue.db'}")
    with TestClient(demo_app) as client:
        auth = {"Authorization": f"Bearer {found.group(0)}"}
        assert client.get("/me", headers=auth).json()["role"] == "operator"
        orders = client.get("/orders", params={"limit": 500}, headers=auth).json()
        assert len(orders) == 120
    demo_app.state.engine.dispose()


def test_demo_writes_the_facts_the_diagnosis_endpoints_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "demo"
    for name in ("LVYUE_DIAGNOSIS_FACTS", "LVYUE_DIAGNOSIS_STATE"):  # the demo's own, not set
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(
        app, ["demo", "--no-serve", "--dir", str(directory), "--orders", "400"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    facts = directory / "facts"
    assert (facts / "orders.parquet").exists()
    # The demo merchants' diagnoses are kept where the console reads them (first view: a read).
    state = directory / "governance"
    stored = list((state / kept.CACHE_DIR / kept.watermark(facts, state)).glob("*.json"))
    shown = {
        x.split()[5] for x in result.output.splitlines() if x.startswith("│ M") and ".main" in x
    }
    assert {json.loads(f.read_text("utf-8"))["merchant_id"] for f in stored} == shown
    assert "diagnoses kept for" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("│ operator "))
    token = re.search(r"lvy_[A-Za-z0-9_-]{40,}", line)
    assert token is not None
    monkeypatch.setenv("LVYUE_DIAGNOSIS_FACTS", str(facts))
    demo_app = create_app(f"sqlite:///{directory / 'lvyue.db'}")
    with TestClient(demo_app) as client:
        auth = {"Authorization": f"Bearer {token.group(0)}"}
        merchant = client.get("/orders", params={"limit": 1}, headers=auth).json()[0]
        answer = client.get(f"/diagnosis/merchants/{merchant['merchant_id']}", headers=auth)
        assert answer.status_code == 200, answer.text
        assert answer.json()["merchant_id"] == merchant["merchant_id"]
    demo_app.state.engine.dispose()
