"""``lvyue indicators``, ``measures propose`` and ``creators claims|measures`` at 80 columns
(issue 15's bar): no line wider, and no cell cut short — a date, an indicator's name, a
measure's kind and its clause are shown whole (they were ``2024-02…``, ``描述不符…``,
``delist_produ…``)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
from claims_market import PAY as CLAIM_PAY
from claims_market import ClaimMarket
from helpers import Market
from rich.cells import cell_len
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()
NARROW = {"COLUMNS": "80", "NO_COLOR": "1"}
PRODUCT = "3641257000000001750"  # the simulator's product ids are 19 digits


def _write(root: Path, tables: dict[str, pa.Table | None]) -> Path:
    root.mkdir()
    for name, table in tables.items():
        if table is not None:
            pcsv.write_csv(table, root / f"{name}.csv")
    return root


def _run(*args: str) -> str:
    out = runner.invoke(app, list(args), env=NARROW)
    assert out.exit_code == 0, out.output
    wide = [line for line in out.stdout.splitlines() if cell_len(line.rstrip()) > 80]
    assert not wide, "\n".join(wide)
    assert not re.search(r"\S…", out.stdout), out.stdout  # a cell cut short
    return out.stdout


def test_indicators_and_measures_fit_80_columns_whole(tmp_path: Path) -> None:
    m = Market()
    bad = m.add_orders("M0000038", 100, product=PRODUCT)
    for oid in bad[:12]:
        m.after_sale(oid, "defect", kind="refund_only")
    for oid in bad[12:18]:
        m.after_sale(oid, "not_as_described", kind="refund_only")
    for merchant in ("M0000002", "M0000003", "M0000004"):
        m.after_sale(m.add_orders(merchant, 100)[0], "defect", kind="refund_only")
    facts = _write(tmp_path / "facts", m.tables())
    as_of = ("--as-of", "2024-02-16 00:00:00")
    merchants = _run("indicators", str(facts), "--festival", "VF-8", *as_of)
    assert "2024-02-16" in merchants and "描述不符率" in merchants and "IND-9" in merchants
    products = _run("indicators", str(facts), "--festival", "VF-8", "--by", "product", *as_of)
    assert "M0000038/" in products and "IND-7" in products  # the id may fold, never cut
    measures = _run("measures", "propose", str(facts), "--periods", "1", *as_of)
    assert "extend_settlement" in measures and "VF-8;MS-4" in measures


def test_creators_claims_and_measures_fit_80_columns_whole(tmp_path: Path) -> None:
    m = ClaimMarket()
    for k in range(2):  # two of the merchant's own listings, both severe: order limits
        p = m.promote("次日达", creator=None, merchant="M0000040", product=f"{PRODUCT[:-1]}{k}")
        m.orders_of(p, 10, signed=CLAIM_PAY + timedelta(days=3), merchant="M0000040",
                    product=f"{PRODUCT[:-1]}{k}")  # fmt: skip
    c = m.promote("次日达", creator="C000002")
    m.orders_of(c, 10, signed=CLAIM_PAY + timedelta(days=3))
    facts = _write(tmp_path / "facts", m.tables())
    as_of = ("--as-of", "2024-03-01 00:00:00")
    claims = _run("creators", "claims", str(facts), *as_of)
    assert "C000002" in claims and "severe (CC-3)" in claims
    measures = _run("creators", "measures", str(facts), "--periods", "4", *as_of)
    assert "limit_orders" in measures and "VF-9;CC-12" in measures
    assert "withdraw_sharing" in measures and "lifted by rule" in measures
