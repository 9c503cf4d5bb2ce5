"""Issue 10 rule-fidelity readings of the rulebook itself: scope (SF-7), honest citations
(NY-1/NY-2 source kind, SF-2/SF-11 whole sentences, every seed clause found in its seed)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from tests.rulebook.helpers import order

from lvyue.rulebook import load_rulebook
from lvyue.rulebook.schema import SourceKind

SEEDS = Path(os.environ.get("LVYUE_SEEDS", "/work/shared/seeds"))


@pytest.mark.parametrize("merchant_type", ["domestic", "cross_border", "instant_retail"])
def test_sf7_applies_to_every_merchant_type_in_the_window(merchant_type: str) -> None:
    rb = load_rulebook()
    inside = rb.resolve("first_hub.limit", order(merchant_type, ship_time="2023-02-04 23:59:59"))
    after = rb.resolve("first_hub.limit", order(merchant_type, ship_time="2023-02-05 00:00:00"))
    assert inside is not None and inside.clause_id == "SF-7"
    assert after is not None and after.clause_id == "DR-2b"


def test_sf6_pickup_stays_domestic_only() -> None:
    rb = load_rulebook()
    answer = rb.resolve("pickup.limit", order("cross_border", ship_time="2023-02-01 10:00:00"))
    assert answer is not None and answer.clause_id == "DR-2a"  # "(仅限国内商家)"


def test_new_year_clauses_say_they_are_a_third_party_reading() -> None:
    rb = load_rulebook()
    ny = next(a for a in rb.announcements if a.id == "new-year-2024")
    assert ny.source_kind is SourceKind.THIRD_PARTY_SUMMARY and ny.partial
    for cid in ("NY-1", "NY-2"):
        assert rb.clause(cid).source.startswith("（第三方解读，原文未收录）")


def _flat(text: str) -> str:
    """Whitespace-free, so a quote copied across line breaks still matches."""
    return re.sub(r"\s+", "", text)


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed texts not found at {SEEDS}")
def test_every_seed_clause_quotes_its_seed_and_sf2_sf11_whole_sentences() -> None:
    rb = load_rulebook()
    seeds = {p.name: _flat(p.read_text("utf-8")) for p in SEEDS.glob("*.txt")}
    for a in rb.announcements:
        if a.source_kind is not SourceKind.SEED:
            continue
        seed = seeds[a.source_ref.split("/")[-1].split()[0]]
        for cid in a.clause_ids:
            assert _flat(rb.clause(cid).source) in seed, cid
    sf2 = rb.clause("SF-2").source
    assert sf2.startswith("春节期间,小店平台商家和全球购平台商家") and sf2.endswith("为准。")
    sf11 = rb.clause("SF-11").source
    assert "达人服务" in sf11 and sf11.endswith("热线咨询时间不变:8点-24点")
