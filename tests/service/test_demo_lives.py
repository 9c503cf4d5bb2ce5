"""The demo lives now (issue 15): on the demo clock every role has something to do, the
worker has already recorded violations, and the clock never runs a production database."""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
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
        app, ["demo", "--no-serve", "--dir", str(directory), "--orders", "1000"], env=ENV
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
    directory, output = demo
    steps = output.split("try first", 1)[1]
    for who in ("operator", _main(output), "agency", "carrier", "consumer", "worker"):
        assert re.search(rf"^  {re.escape(who)} ", steps, re.M), who
    assert (
        "二手 merchant" in steps and f"export {DEMO_CLOCK_ENV}=2024-02-10T12:00:00+08:00@" in steps
    )
    service = create_app(f"sqlite:///{directory / 'lvyue.db'}")
    paths = service.openapi()["paths"]  # every endpoint printed exists
    service.state.engine.dispose()
    routes = [re.compile(re.sub(r"\{[^}]+\}", "[^/]+", p) + "$") for p in paths]
    printed = re.findall(r"(?:GET|POST) (/[^\s,;?…)]+)", steps)
    assert len(printed) >= 8 and all(any(r.match(p) for r in routes) for p in printed), printed


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
        penalties = client.get("/penalties", headers=merchant)
        assert penalties.status_code == 200 and penalties.json()  # DR-6, already computed
        order = re.search(r"on its order (\d+)", output)
        assert order is not None
        asked = client.post(
            "/workflows/after-sales",
            json={"order_id": order.group(1), "type": "refund_only"},
            headers=_token(output, "consumer"),
        )
        assert asked.status_code == 201, asked.text
    service.state.engine.dispose()


def test_at_risk_items_show_alike_through_the_api_and_the_cli(
    demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The worker has already produced at-risk items (issue 15): the operator and the first
    merchant see them through ``GET /at-risk``; ``lvyue at-risk`` reads the same ones from the
    database and the batch engine finds the same ones again in the demo's facts."""
    directory, output = demo
    clock = re.search(rf"export {DEMO_CLOCK_ENV}=(\S+)", output)
    assert clock is not None
    monkeypatch.setenv(DEMO_CLOCK_ENV, clock.group(1))
    url = f"sqlite:///{directory / 'lvyue.db'}"
    service = create_app(url)
    with TestClient(service) as client:
        everyone = client.get("/at-risk", headers=_token(output, "operator"))
        assert everyone.status_code == 200 and everyone.json(), everyone.text
        violations = client.get("/violations", headers=_token(output, "operator"))
        recorded = int(violations.headers["X-Total-Count"])
        owner = _main(output).removesuffix(".main")
        mine = client.get("/at-risk", headers=_token(output, _main(output))).json()
        assert mine and all(item["merchant_id"] == owner for item in mine)
    with TestClient(service, base_url="https://testserver") as console:  # 履约看板
        form = console.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        account = {"name": _main(output), "password": _password(output, _main(output))}
        console.post("/console/login", data={**account, "csrf_token": csrf[1]})
        shown = console.get("/console/orders/at-risk")
        assert shown.status_code == 200 and all(i["order_id"] in shown.text for i in mine)
    service.state.engine.dispose()
    worker = re.search(
        r"^  worker +.*: (\d+) violations recorded, (\d+) verdicts at risk", output, re.M
    )
    assert worker is not None and int(worker[2]) == int(everyone.headers["X-Total-Count"])
    assert int(worker[1]) == recorded  # what the operator finds, not one sweep's share
    demo_now = ["--as-of", "2024-02-10 12:00:00"]  # the demo clock's anchor
    found = {}
    for source in (["--database", url], ["--facts", str(directory / "facts")]):
        out = tmp_path / f"{source[0].strip('-')}.csv"
        listed = runner.invoke(app, ["at-risk", *source, *demo_now, "--out", str(out)], env=ENV)
        assert listed.exit_code == 0, listed.output
        with out.open(encoding="utf-8-sig") as rows:
            found[source[0]] = {(r["order_id"], r["check"]) for r in csv.DictReader(rows)}
    assert found["--database"] and found["--database"] == found["--facts"]
    assert {(i["order_id"], i["check"]) for i in everyone.json()} <= found["--database"]


def test_the_agency_has_inspections_waiting_and_acts_on_them(
    demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, output = demo
    clock = re.search(rf"export {DEMO_CLOCK_ENV}=(\S+)", output)
    assert clock is not None
    monkeypatch.setenv(DEMO_CLOCK_ENV, clock.group(1))
    monkeypatch.setenv("LVYUE_INSPECTION_SECRET", _printed(output, "LVYUE_INSPECTION_SECRET"))
    agency = _token(output, "agency")
    service = create_app(f"sqlite:///{directory / 'lvyue.db'}")
    with TestClient(service) as client:
        sent = client.get("/btas/inspections", params={"state": "sent"}, headers=agency).json()
        received = client.get(
            "/btas/inspections", params={"state": "received"}, headers=agency
        ).json()
        assert len(sent) == 2 and len(received) == 1
        printed = re.search(
            r"^  agency +2 sent to it: POST /btas/inspections/(\S+)/receive", output, re.M
        )
        assert printed is not None and printed[1] in {i["inspection_id"] for i in sent}
        got = client.post(f"/btas/inspections/{printed[1]}/receive", headers=agency)
        assert got.status_code == 200 and got.json()["state"] == "received", got.text
        result = {"result": "pass", "report_ref": "demo://report/1", "tag_ref": "demo://tag/1"}
        passed = client.post(
            f"/btas/inspections/{received[0]['inspection_id']}/result", json=result, headers=agency
        )
        assert passed.status_code == 200 and passed.json()["code"], passed.text
        second_hand = re.search(r"^  (M\d+)\.main +.*二手", output.split("try first")[1], re.M)
        assert second_hand is not None  # the second-hand merchant sees its own inspections
        own = client.get("/btas/inspections", headers=_token(output, f"{second_hand[1]}.main"))
        assert own.status_code == 200 and len(own.json()) == 3
        assert all("二手" in i["category"] for i in own.json())
    service.state.engine.dispose()


def _password(output: str, account: str) -> str:
    """The console password printed in the account's row (the last column)."""
    line = next(x for x in output.splitlines() if x.startswith(f"│ {account} "))
    return line.strip("│ ").split("│")[-1].strip()


def _printed(output: str, name: str) -> str:
    found = re.search(rf"\({name}\): (\S+)", output)
    assert found is not None
    return found.group(1)


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
    merchant = _main(output).removesuffix(".main")
    state = ["--facts", facts, "--state-dir", str(directory / "growth")]
    signed = runner.invoke(app, ["growth-signup", merchant, "cloud_warehouse", *state], env=ENV)
    assert signed.exit_code == 0 and " at 2024-02-1" in signed.output, signed.output


def test_demo_clock_never_runs_a_production_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEMO_CLOCK_ENV, "2024-02-10T12:00:00+08:00@2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("LVYUE_INSPECTION_SECRET", "0" * 64)  # so the clock guard is reached
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    for command in (["worker", "--once", "--url", url], ["serve", "--url", url]):
        out = runner.invoke(app, command, env=ENV)
        assert out.exit_code == 2 and "demo (SQLite) only" in out.output


def test_the_served_demo_runs_the_worker_beside_it(tmp_path: Path) -> None:
    """`lvyue demo` serves with the live worker running (issue 15): a pickup scan posted for
    an order at risk of a late pickup leaves GET /at-risk once the worker has judged it
    again. With no worker the verdict stays as judged (at risk, deadline ahead): it stays."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != DEMO_CLOCK_ENV} | ENV
    log = tmp_path / "demo.out"
    args = ["demo", "--dir", str(tmp_path / "demo"), "--orders", "1000", "--port", str(port)]
    main = "from lvyue.cli.main import main; main()"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", main, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: httpx.get(f"{base}/openapi.json").status_code == 200, 300, log)
        output = log.read_text(encoding="utf-8")
        assert "worker: running beside the server" in output, output[-2000:]
        operator = _token(output, "operator")

        def listed() -> list[dict[str, str]]:
            got = httpx.get(f"{base}/at-risk", params={"limit": 500}, headers=operator)
            assert got.status_code == 200, got.text
            return [i for i in got.json() if i["check"] == "pickup"]

        waiting = sorted(listed(), key=lambda i: -int(i["seconds_left"]))
        assert waiting and int(waiting[0]["seconds_left"]) > 600  # not due while we poll
        order = waiting[0]["order_id"]
        shipment = httpx.get(f"{base}/orders/{order}", headers=operator).json()["shipment"]
        clock = re.search(rf"export {DEMO_CLOCK_ENV}=(\S+)", output)
        assert clock is not None
        anchor, since = (datetime.fromisoformat(t) for t in clock[1].split("@"))
        now = anchor + (datetime.now(UTC) - since)  # the demo clock, as the server reads it
        scan = {"carrier": shipment["carrier"], "waybill": shipment["waybill"], "kind": "pickup"}
        scan["time"] = (now - timedelta(minutes=1)).isoformat(timespec="seconds")
        made = httpx.post(f"{base}/tracking", json=scan, headers=_token(output, "carrier"))
        assert made.status_code == 201, made.text
        _wait_for(lambda: order not in {i["order_id"] for i in listed()}, 60, log)
    finally:
        server.terminate()
        assert server.wait(timeout=60) is not None  # server and worker thread stop together


def _wait_for(done: Callable[[], bool], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if done():
                return
        except httpx.TransportError:
            pass  # still building the demo
        assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-3000:]
        time.sleep(1)


_FACT_TIMES = ("pay_time", "confirmed_receipt_time", "ship_time", "time", "created_at")
_FACT_TIMES += ("merchant_handled_at", "return_shipped_at", "merchant_received_at")
_FACT_TIMES += ("return_signed_at", "refunded_at")


def _fact_times(value: object) -> list[datetime]:
    """Every fact instant in an order's JSON (not deadlines, not when the service recorded it)."""
    if isinstance(value, list):
        return [t for item in value for t in _fact_times(item)]
    if not isinstance(value, dict):
        return []
    own = [datetime.fromisoformat(value[k]) for k in _FACT_TIMES if value.get(k)]
    return own + [t for v in value.values() for t in _fact_times(v)]


def test_the_demo_shows_no_fact_after_its_clock(demo: tuple[Path, str]) -> None:
    """sim.cut: an order paid before the demo's now shows only what happened by then."""
    import pyarrow.parquet as pq

    from lvyue.api.demo import DEMO_NOW

    directory, output = demo
    orders = pq.read_table(directory / "facts" / "orders.parquet")
    latest = orders.sort_by([("pay_time", "descending")])["order_id"].to_pylist()[:150]
    acted = re.search(r"on its order (\d+)", output)  # another test asks after-sales on it now
    latest = [o for o in latest if acted is None or o != acted.group(1)]
    service = create_app(f"sqlite:///{directory / 'lvyue.db'}")
    seen: list[datetime] = []
    with TestClient(service) as client:
        for order in latest:
            answer = client.get(f"/orders/{order}", headers=_token(output, "operator"))
            assert answer.status_code == 200, answer.text
            seen += _fact_times(answer.json())
    service.state.engine.dispose()
    assert len(seen) > 150 and max(seen) <= DEMO_NOW
