"""A verdict decided by a revised clause cites its version (R-1@r2), on both paths (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import Evaluate, order, scan
from tests.rulebook.drafts import REVISED, write_draft

from lvyue.rulebook import load_rulebook


@pytest.fixture(scope="module")
def rulebook(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Read-only and slow to compile to its batch table: one for both cases.
    return load_rulebook([write_draft(tmp_path_factory.mktemp("draft"), REVISED)])


@pytest.mark.parametrize(
    ("ship", "pickup", "cited"),
    [
        ("2030-05-31 23:00:00", "2030-06-02 08:00:00", "R-1"),  # the original (36 h) in force
        ("2030-06-01 00:00:00", "2030-06-02 08:00:00", "R-1@r2"),  # r2 (30 h) from its instant
    ],
)
def test_verdict_names_the_version_in_force(
    evaluate: Evaluate, ship: str, pickup: str, cited: str
) -> None:
    rows = evaluate(
        "2030-06-20 00:00:00",
        orders=[order("o1", "2030-05-31 20:00:00", ship_time=ship)],
        tracking=[scan("o1", pickup)],
    )
    verdict = rows[("o1", "", "pickup")]
    assert cited in verdict["clauses"].split(";")
    assert verdict["status"] == ("violated" if cited == "R-1@r2" else "ok")


def test_rules_resolve_prints_the_value_of_the_version_in_force(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lvyue.cli.main import app

    draft = str(write_draft(tmp_path, REVISED))
    base = ["rules", "resolve", "--rulebook", draft, "--parameter", "pickup.limit"]
    before = CliRunner().invoke(app, [*base, "--ship-time", "2030-05-31 23:59:59"])
    after = CliRunner().invoke(app, [*base, "--ship-time", "2030-06-01 00:00:00"])
    assert before.exit_code == after.exit_code == 0, before.output
    assert "36 h" in before.output and "R-1 " in before.output and "30 h" not in before.output
    assert "30 h" in after.output and "R-1@r2" in after.output and "36 h" not in after.output
