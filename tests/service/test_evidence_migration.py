"""The evidence_files migration takes uploads recorded before versions existed from their
audit entries (``shipment.packing_video``), as version 1 of their shipment."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from lvyue.store import make_engine, upgrade

REFERENCE = "sha256:" + "ab" * 32


def test_earlier_uploads_become_version_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "aftersale_intervention")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO merchants (merchant_id, name, merchant_type, established_store, "
            "topic_analysis_enabled, created_at) VALUES ('m1', '一号店', 'domestic', 0, 0, "
            "'2026-12-01 08:00:00.000000')"))  # fmt: skip
        for entity_id, reference in (("o-1", REFERENCE), ("o-1", "sha256:" + "cd" * 32)):
            detail = {"reference": reference, "size": 1234, "media_type": "video/mp4"}
            connection.execute(
                sa.text("INSERT INTO audit_log (at, actor, action, entity, entity_id, "
                        "merchant_id, clause, detail) VALUES ('2026-12-01 08:00:00.000000', "
                        "'m1-main', 'shipment.packing_video', 'order', :e, 'm1', 'BT-9', :d)"),
                {"e": entity_id, "d": json.dumps(detail)},
            )  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT subject, subject_id, version, reference, size, media_type, uploaded_by "
            "FROM evidence_files")).all()  # fmt: skip
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("shipment", "o-1", 1, REFERENCE, 1234, "video/mp4", "m1-main")
    ]
