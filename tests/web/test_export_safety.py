"""Console exports never turn merchant text into a live formula, and one shop's stored
control character (legacy data, from before ingestion refused it) never breaks an export."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from webkit import login

from lvyue.api.testing import ServiceWorld
from lvyue.store.db import make_engine, make_session_factory, session_scope
from lvyue.store.tables import Order
from lvyue.web.security import LoginThrottle

FORMULA = '=HYPERLINK("http://evil.example","click")'
CATEGORIES = {"safe-formula": FORMULA, "safe-plus": "+1+1", "safe-at": "@SUM(A1)",
              "safe-minus": "-2+3", "safe-plain": "服饰内衣>女装"}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def orders(service: ServiceWorld) -> None:
    rows = [
        {"order_id": order_id, "merchant_id": "m1", "merchant_type": "domestic",
         "category": category, "ship_mode": "spot", "pay_time": "2024-02-01 10:00:00"}
        for order_id, category in {**CATEGORIES, "safe-legacy": "x"}.items()
    ]  # fmt: skip
    answer = service.client.post(
        "/ingest/orders", json={"rows": rows}, headers=service.auth("operator")
    )
    assert answer.status_code in (200, 201), answer.text
    engine = make_engine(service.url)  # stored before ingestion refused control characters
    try:
        with session_scope(make_session_factory(engine)) as session:
            session.execute(
                update(Order).where(Order.order_id == "safe-legacy").values(category="坏\x01类目")
            )
    finally:
        engine.dispose()


def _categories(rows: list[list[object]]) -> dict[object, object]:
    return {row[0]: row[2] for row in rows[1:]}


def test_the_xlsx_export_holds_text_never_a_formula(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    answer = login(service, "m1.main").get("/console/orders?format=xlsx")
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cells = {row[0].value: row[2] for row in sheet.iter_rows(min_row=2)}
    for order_id in CATEGORIES:
        assert cells[order_id].data_type == "s", order_id  # never "f" (formula)
    assert cells["safe-formula"].value == "'" + FORMULA
    assert cells["safe-plus"].value == "'+1+1" and cells["safe-at"].value == "'@SUM(A1)"
    assert cells["safe-minus"].value == "'-2+3"
    assert cells["safe-plain"].value == "服饰内衣>女装"  # plain text untouched
    assert cells["safe-legacy"].value == "坏\\x01类目"  # escaped, not a 500


def test_the_csv_export_neutralises_formulas_and_control_characters(
    service: ServiceWorld, fresh_throttle: LoginThrottle
) -> None:
    answer = login(service, "m1.main").get("/console/orders?format=csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    categories = _categories(rows)  # type: ignore[arg-type]
    assert categories["safe-formula"] == "'" + FORMULA
    assert categories["safe-minus"] == "'-2+3"
    assert categories["safe-plain"] == "服饰内衣>女装"
    assert categories["safe-legacy"] == "坏\\x01类目"
    assert "\x01" not in answer.content.decode("utf-8-sig")
