"""What the importers write is what the facts loader (lvyue.facts) accepts."""

from __future__ import annotations

from pathlib import Path

from lvyue.facts.loader import load_facts
from lvyue.importers import import_douyin_export, import_kuaidi100, import_open_platform

FIXTURES = Path(__file__).parent / "fixtures"
PUSH = Path(__file__).parent.parent / "tracking" / "fixtures" / "push_zhongtong.form"


def test_imported_directory_loads(tmp_path: Path) -> None:
    import_douyin_export(FIXTURES / "douyin_export.csv", tmp_path)
    import_open_platform([FIXTURES / "order_detail.json", FIXTURES / "order_list.json"], tmp_path)
    import_kuaidi100([PUSH], tmp_path)
    facts = load_facts(tmp_path)
    assert facts.orders.num_rows == 13
    assert facts.tracking.num_rows == 10
    assert facts.inspections.num_rows == 2
