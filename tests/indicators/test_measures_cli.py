"""``lvyue measures propose``: the ladder's measure for a festival merchant, its settlement
penalty fed to VF-6a (the engine then settles those orders later), and the measure recorded
through the measures workflow, which the merchant (only it) sees with why and until when."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from helpers import PAY, Market
from typer.testing import CliRunner

from lvyue.api.testing import ServiceWorld
from lvyue.cli.main import app

runner = CliRunner()
RECEIPT = PAY + timedelta(days=3)
AS_OF = "2024-02-16 00:00:00"  # Beijing: one period over VF-8's whole window


def _facts(root: Path) -> Path:
    root.mkdir()
    m = Market()
    ids = m.add_orders("m1", 100, receipt=RECEIPT)
    for oid in ids[:12]:  # defect 12 % (severe, 2 points)
        m.after_sale(oid, "defect", kind="refund_only")
    for oid in ids[12:18]:  # not as described 6 % (severe, 2 points): level 4
        m.after_sale(oid, "not_as_described", kind="refund_only")
    for merchant in ("m2", "m3", "m4"):
        peers = m.add_orders(merchant, 100, receipt=RECEIPT)
        m.after_sale(peers[0], "defect", kind="refund_only")
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, root / f"{name}.csv")
    return root


def test_propose_feeds_vf6a_and_records_the_measure_the_merchant_sees(
    tmp_path: Path, service: ServiceWorld
) -> None:
    facts = _facts(tmp_path / "facts")
    out, patched = tmp_path / "measures.csv", tmp_path / "patched"
    args = ["measures", "propose", str(facts), "--as-of", AS_OF, "--periods", "1", "--out",
            str(out), "--facts-out", str(patched), "--record", "--url", service.url]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = pcsv.read_csv(out).to_pylist()
    assert [(r["merchant_id"], r["kind"], r["level"]) for r in rows] == [
        ("m1", "extend_settlement", 4)
    ]
    assert rows[0]["clauses"].startswith("VF-8;MS-4;IND-7")
    orders = pq.read_table(patched / "orders.parquet").to_pylist()
    penalised = {o["order_id"] for o in orders if o["settlement_extended_penalty"]}
    assert len(penalised) == 100 and all(o.startswith("m1-") for o in penalised)
    one = next(o for o in orders if o["order_id"] in penalised)
    assert one["penalty_settlement_time"] == RECEIPT + timedelta(days=60)  # MS-8, not VF-6's 30

    seen = service.client.get("/measures", headers=service.auth("m1.main")).json()
    mine = [m for m in seen if m["kind"] == "extend_settlement"]
    assert len(mine) == 1 and mine[0]["clause"] == "VF-8;MS-4"
    assert "defect_rate 0.12" in mine[0]["reason"] and mine[0]["until"] is not None
    others = service.client.get("/measures", headers=service.auth("m2.main")).json()
    assert not [m for m in others if m["kind"] == "extend_settlement"]
    again = runner.invoke(app, [*args[:7], "--record", "--url", service.url])
    assert again.exit_code == 0 and "recorded 0 measures" in again.output


def test_below_the_first_step_nothing_is_proposed(tmp_path: Path) -> None:
    root = tmp_path / "facts"
    root.mkdir()
    m = Market()
    for merchant in ("m1", "m2", "m3"):
        ids = m.add_orders(merchant, 100)
        m.after_sale(ids[0], "defect", kind="refund_only")
    for name, table in m.tables().items():
        if table is not None:
            pcsv.write_csv(table, root / f"{name}.csv")
    result = runner.invoke(app, ["measures", "propose", str(root), "--as-of", AS_OF])
    assert result.exit_code == 0 and "measures: 0" in result.output
