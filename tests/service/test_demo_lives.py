"""The demo lives now (issue 15): on the demo clock every role has something to do, the
worker has already recorded violations, and the clock never runs a production database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lvyue.api import create_app
from lvyue.cli.main import app
from lvyue.model.clock import DEMO_CLOCK_ENV, business_now

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("demo")
    out = runner.invoke(
        app, ["demo", "--no-serve", "--dir", str(directory), "--orders", "400"], env=ENV
    )
    assert out.exit_code == 0, out.output
    return directory, out.output


def _main(output: str) -> str:
    """The merchant account the demo prints first (the one with the most violations)."""
    found = re.search(r"^  (M\d+)\.main ", output.split("try first", 1)[1], re.M)
    assert found is not None
    return f"{found.group(1)}.main"


def _token(output: str, account: str) -> dict[str, str]:
    line = next(x for x in output.splitlines() if x.startswith(f"│ {account} "))
    found = re.search(r"lvy_[A-Za-z0-9_-]{40,}", line)
    assert found is not None
    return {"Authorization": f"Bearer {found.group(0)}"}


def test_make_demo_prints_one_line_per_role(demo: tuple[Path, str]) -> None:
    _, output = demo
    steps = output.split("try first", 1)[1]
    for who in ("operator", _main(output), "agency", "carrier", "consumer", "worker"):
        assert re.search(rf"^  {re.escape(who)} ", steps, re.M), who
    assert (
        "二手 merchant" in steps and f"export {DEMO_CLOCK_ENV}=2024-02-10T12:00:00+08:00@" in steps
    )


def test_every_role_can_act_on_the_demo_clock(
    demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, output = demo
    clock = re.search(rf"export {DEMO_CLOCK_ENV}=(\S+)", output)
    assert clock is not None
    monkeypatch.setenv(DEMO_CLOCK_ENV, clock.group(1))
    assert business_now().year == 2024  # the service's "now" is inside the simulated span
    service = create_app(f"sqlite:///{directory / 'lvyue.db'}")
    with TestClient(service) as client:
        pending = client.get(
            "/reports", params={"state": "pending"}, headers=_token(output, "operator")
        )
        assert pending.status_code == 200 and len(pending.json()) == 1
        merchant = _token(output, _main(output))
        violations = client.get("/violations", headers=merchant).json()
        owner = _main(output).removesuffix(".main")
        assert violations and all(v["merchant_id"] == owner for v in violations)
        assert client.get("/penalties", headers=merchant).status_code == 200
        order = re.search(r"on its order (\d+)", output)
        assert order is not None
        asked = client.post(
            "/workflows/after-sales",
            json={"order_id": order.group(1), "type": "refund_only"},
            headers=_token(output, "consumer"),
        )
        assert asked.status_code == 201, asked.text
        btas = client.get("/btas/inspections", headers=_token(output, "agency"))
        assert btas.status_code == 200
    service.state.engine.dispose()


def test_cli_honours_the_demo_clock(
    demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, output = demo
    clock = re.search(rf"export {DEMO_CLOCK_ENV}=(\S+)", output)
    assert clock is not None
    facts = str(directory / "facts")
    without = runner.invoke(app, ["at-risk", "--facts", facts, "--within", "24h"], env=ENV)
    assert without.exit_code == 0 and "0 at risk" in without.output  # 2026: nothing pending
    monkeypatch.setenv(DEMO_CLOCK_ENV, clock.group(1))
    living = runner.invoke(app, ["at-risk", "--facts", facts, "--within", "24h"], env=ENV)
    assert living.exit_code == 0 and not re.search(r"^\s*0 at risk", living.output, re.M)


def test_demo_clock_never_runs_a_production_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEMO_CLOCK_ENV, "2024-02-10T12:00:00+08:00@2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("LVYUE_INSPECTION_SECRET", "0" * 64)  # so the clock guard is reached
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    for command in (["worker", "--once", "--url", url], ["serve", "--url", url]):
        out = runner.invoke(app, command, env=ENV)
        assert out.exit_code == 2 and "demo (SQLite) only" in out.output
