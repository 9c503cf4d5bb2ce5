"""The garbled seed sentences (BT, VF: traditional characters, pinyin artefacts, synonyms)
keep their ``source`` for citation and carry a readable simplified ``text`` (issue 15)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from lvyue.cli.main import app
from lvyue.rulebook import load_rulebook

runner = CliRunner()
PINYIN = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
TRADITIONAL = re.compile("[質數類發貨時產單過經營檢規運節]")


def test_every_garbled_source_has_a_clean_text() -> None:
    garbled = [c for c in load_rulebook().clauses if PINYIN.search(c.source)]
    assert len(garbled) >= 20  # the BT and VF seeds
    for c in garbled:
        assert c.text and not PINYIN.search(c.text) and not TRADITIONAL.search(c.text), c.id
        assert c.readable == c.text
    clean = [c for c in load_rulebook().clauses if c.id.startswith("DR-")]
    assert clean and all(c.readable == c.source for c in clean)  # nothing to normalise


def test_rules_show_prints_text_beside_the_source() -> None:
    out = runner.invoke(app, ["rules", "show", "VF-3"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    assert "商品不可通过延迟发货工具设置延迟发货时效" in out.output  # the text
    assert "延遲發(fā)貨東西" in out.output  # the source as found
    data = json.loads(runner.invoke(app, ["rules", "show", "VF-3", "--json"]).output)
    assert (
        data["clause"]["text"].startswith("2024年02月08日") and "(fā)" in data["clause"]["source"]
    )
