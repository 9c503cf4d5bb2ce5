"""load_orders: a few orders' facts out of a directory, the same as load_facts gives them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from lvyue.engine import evaluate_order, order_facts
from lvyue.facts import FactsError, load_facts, load_orders
from lvyue.model.time import parse_instant
from lvyue.rulebook import load_rulebook
from lvyue.sim import write_facts


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sim3k")
    write_facts(root, orders=3_000, seed=5, progress=False)
    return root


def _interesting(sim: Path) -> list[str]:
    """Orders with requests, with a code, with a report, and plain ones."""
    facts = load_facts(sim)
    with_request = facts.after_sales["order_id"].slice(0, 5).to_pylist()
    coded = facts.orders.filter(pc.is_valid(facts.orders["inspection_code"]))
    reported = [i for ids in facts.reports["order_ids"].to_pylist()[:5] for i in ids.split(";")]
    plain = facts.orders["order_id"].slice(0, 5).to_pylist()
    return [*with_request, *coded["order_id"].slice(0, 5).to_pylist(), *reported[:5], *plain]


def test_the_orders_facts_and_verdicts_are_those_of_the_whole_directory(sim: Path) -> None:
    whole, rulebook = load_facts(sim), load_rulebook()
    as_of = parse_instant("2024-03-20 00:00:00")
    ids = _interesting(sim)
    assert len(ids) >= 15
    for order_id in ids:
        want = order_facts(whole, order_id)
        got = order_facts(load_orders(sim, [order_id]), order_id)
        assert want is not None and got is not None
        assert sorted(got.tracking, key=repr) == sorted(want.tracking, key=repr)
        assert got.after_sales == want.after_sales and got.reports == want.reports
        assert got.inspection == want.inspection
        assert sorted(got.code_shipments) == sorted(want.code_shipments)
        assert evaluate_order(got, as_of, rulebook) == evaluate_order(want, as_of, rulebook)


def test_an_unknown_order_and_a_bad_directory(sim: Path, tmp_path: Path) -> None:
    assert order_facts(load_orders(sim, ["no-such-order"]), "no-such-order") is None
    (tmp_path / "orders.csv").write_text("order_id,merchant_id\no1,m1\n", encoding="utf-8")
    with pytest.raises(FactsError, match="missing required column 'merchant_type'"):
        load_orders(tmp_path, ["o1"])
