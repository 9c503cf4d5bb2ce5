"""A 中通 trace whose first sorting centre is written 【广州中心】, from a saved Kuaidi100 push
through the importer to the DR-2b first-hub verdict (both engine paths): recognising that hub
is what keeps a real shipment from a fake-shipment verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import order, write_dir

from lvyue.engine import evaluate_batch, evaluate_order, iter_order_facts, verdicts_table
from lvyue.facts import load_facts
from lvyue.importers import import_kuaidi100
from lvyue.model.time import parse_instant
from lvyue.rulebook import load_rulebook

AS_OF = parse_instant("2024-06-01 00:00:00")


def _push(waybill: str, scans: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Kuaidi100's ``param`` with the scans (Beijing time, statusCode, context), newest first."""
    data = [
        {"time": t, "ftime": t, "statusCode": code, "context": text}
        for t, code, text in reversed(scans)
    ]
    return {
        "status": "polling",
        "lastResult": {
            "nu": waybill,
            "com": "zhongtong",
            "state": "0",
            "ischeck": "0",
            "data": data,
        },
    }


def _trace(hub_at: str) -> list[tuple[str, str, str]]:
    return [
        (
            "2024-03-01 20:00:00",
            "103",
            "【广州市】 【广州白云江高】（020-36021234） 的 陈明 已揽收",
        ),
        ("2024-03-01 21:00:00", "1002", "【广州市】 快件离开 【广州白云江高】 已发往 【广州中心】"),
        (hub_at, "1002", "【广州市】 快件已经到达 【广州中心】"),
        ("2024-03-03 09:00:00", "1002", "【北京市】 快件已经到达 【北京中心】"),
    ]


@pytest.mark.parametrize(
    ("hub_at", "status"),
    [("2024-03-02 20:00:00", "ok"), ("2024-03-02 20:00:01", "violated")],  # 24 h, 24 h + 1 s
)
def test_first_hub_written_the_zto_way(tmp_path: Path, hub_at: str, status: str) -> None:
    facts_dir = write_dir(
        tmp_path / "facts",
        orders=[order("o1", "2024-03-01T10:00:00+08:00", ship_time="2024-03-01T12:00:00+08:00")],
    )
    saved = tmp_path / "push.json"
    saved.write_text(json.dumps(_push("W-o1", _trace(hub_at)), ensure_ascii=False), "utf-8")
    import_kuaidi100([saved], facts_dir)
    facts = load_facts(facts_dir)
    rulebook = load_rulebook()
    online = verdicts_table(
        [v for of in iter_order_facts(facts) for v in evaluate_order(of, AS_OF, rulebook)]
    )
    batch = evaluate_batch(facts, AS_OF, rulebook)
    assert batch.to_pylist() == online.to_pylist()
    (hub,) = [r for r in batch.to_pylist() if r["check"] == "first_hub"]
    assert (hub["status"], hub["clauses"]) == (status, "DR-2b")
    if status == "ok":  # done at 【广州中心】, not at 【北京中心】 a day and a half later
        assert hub["done_at"] == parse_instant(f"{hub_at}+08:00".replace(" ", "T"))
