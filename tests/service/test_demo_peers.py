"""The demo's merchant sees a topic analysis with peers (issue 14, 物流诊断 LD-6/LD-7): the
default demo (README's `lvyue demo`) gives its printed merchant's industry busy peers (LG-7's
100 orders) and the rollout flag (LD-11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lvyue.api import create_app
from lvyue.cli.main import app

runner = CliRunner()
ENV = {"COLUMNS": "240", "NO_COLOR": "1"}
MIN_PEERS = 5


def test_the_demo_merchant_has_peers_in_its_topic_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LVYUE_DIAGNOSIS_FACTS", "LVYUE_DIAGNOSIS_STATE"):  # the demo's own, not set
        monkeypatch.delenv(name, raising=False)
    out = runner.invoke(app, ["demo", "--no-serve", "--dir", str(tmp_path)], env=ENV)
    assert out.exit_code == 0, out.output
    found = re.search(r"^  (M\d+)\.main ", out.output.split("try first", 1)[1], re.M)
    assert found is not None, out.output
    merchant = found.group(1)  # the merchant the demo points to first
    line = next(x for x in out.output.splitlines() if x.startswith(f"│ {merchant}.main "))
    token = re.search(r"lvy_[A-Za-z0-9_-]{40,}", line)
    assert token is not None
    monkeypatch.setenv("LVYUE_DIAGNOSIS_FACTS", str(tmp_path / "facts"))
    demo_app = create_app(f"sqlite:///{tmp_path / 'lvyue.db'}")
    with TestClient(demo_app) as client:
        auth = {"Authorization": f"Bearer {token.group(0)}"}
        answer = client.get(f"/diagnosis/merchants/{merchant}", headers=auth)
    demo_app.state.engine.dispose()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["topic_status"] == "enabled", body["topic_status"]
    assert body["topic"]["peer_count"] >= MIN_PEERS, body["topic"]["peer_count"]
    assert any(s["percentile"] is not None for s in body["topic"]["standings"])
