"""`lvyue rules` never answers silently wrong (issue 15): unknown parameter or category,
defaults said aloud, a conflicting draft fails `rules diff`."""

from __future__ import annotations

from pathlib import Path

from tests.rulebook.drafts import CONFLICTING, EXTENDING, write_draft
from typer.testing import CliRunner

from lvyue.cli.main import app

runner = CliRunner()


def test_list_unknown_parameter_is_bad_input() -> None:
    out = runner.invoke(app, ["rules", "list", "--parameter", "nope"])
    assert out.exit_code == 2 and "unknown parameter 'nope'" in out.output
    out = runner.invoke(app, ["rules", "list", "--parameter", "pickup.limit", "--json"])
    assert out.exit_code == 0 and '"SF-6"' in out.output


def test_diff_exits_1_when_the_draft_conflicts(tmp_path: Path) -> None:
    bad = runner.invoke(
        app, ["rules", "diff", "--rulebook", str(write_draft(tmp_path / "a", CONFLICTING))]
    )
    assert bad.exit_code == 1 and "X-1" in bad.output and "conflicts" in bad.output
    good = runner.invoke(
        app, ["rules", "diff", "--rulebook", str(write_draft(tmp_path / "b", EXTENDING))]
    )
    assert good.exit_code == 0, good.output


def test_resolve_says_which_defaults_it_applied() -> None:
    base = ["rules", "resolve", "--parameter", "pickup.limit", "--ship-time", "2024-03-01 10:00:00"]
    out = runner.invoke(app, base)
    assert out.exit_code == 0
    assert "merchant type not given: assumed domestic" in out.output
    assert "ship mode not given: assumed spot" in out.output
    given = runner.invoke(app, [*base, "--merchant-type", "domestic", "--ship-mode", "spot"])
    assert given.exit_code == 0 and "assumed" not in given.output


def test_resolve_category_outside_the_taxonomy() -> None:
    base = ["rules", "resolve", "--merchant-type", "domestic", "--ship-mode", "spot"]
    typo = runner.invoke(app, [*base, "--category", "二手商品>二手衣服"])
    assert typo.exit_code == 2 and "二手商品>二手奢侈品" in typo.output  # lists the known ones
    other = runner.invoke(app, [*base, "--category", "服饰内衣>女装"])
    assert other.exit_code == 0 and "not in the rulebook's taxonomy" in other.output
    deeper = runner.invoke(app, [*base, "--category", "二手商品>二手3C数码>手机"])
    assert deeper.exit_code == 0 and "taxonomy" not in deeper.output


def test_rules_list_fits_80_columns_and_wide_has_the_rest() -> None:
    import unicodedata

    def width(line: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)

    out = runner.invoke(app, ["rules", "list"], env={"COLUMNS": "80"})
    assert out.exit_code == 0 and max(width(x) for x in out.output.splitlines()) <= 80
    bt1 = [x for x in out.output.splitlines() if x.startswith(" BT-1 ")]
    assert bt1 and "2022-02-23.." in bt1[0]  # one line, not twelve
    wide = runner.invoke(app, ["rules", "list", "--wide"], env={"COLUMNS": "200"})
    assert "btas-designation" in wide.output and "二手商品>二手奢侈品" in wide.output
