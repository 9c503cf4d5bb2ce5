"""Indicators of every merchant (and product) over rolling periods or a festival window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import ibis

from lvyue.diagnosis.metrics import rows as arrow_rows
from lvyue.indicators import expressions
from lvyue.indicators.errors import IndicatorError
from lvyue.indicators.judge import Judged, judge_rows
from lvyue.indicators.score import experience_score
from lvyue.indicators.source import Sources
from lvyue.indicators.thresholds import Thresholds, thresholds_at
from lvyue.rulebook import Clause, Rulebook, load_rulebook

DAY_S = 86_400


@dataclass(frozen=True)
class Plan:
    """Which periods to judge: ``(period_end, pay_start, pay_end)`` epoch seconds, and the
    clause whose scope and window restrict the orders (VF-8 for the festival window)."""

    periods: tuple[tuple[int, int, int], ...]
    scope: Clause | None = None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def rolling(as_of: datetime, count: int, rulebook: Rulebook | None = None) -> Plan:
    """``count`` periods ending at ``as_of`` and every ``period_days`` before it, each over the
    payments of the ``window_days`` before its end (both from the rulebook at ``as_of``)."""
    th = thresholds_at(as_of, rulebook)
    step = int(th.setting("period_days") * DAY_S)
    window = int(th.setting("window_days") * DAY_S)
    end = _epoch(as_of)
    ends = [end - k * step for k in range(count)][::-1]
    return Plan(tuple((e, e - window, e) for e in ends))


def span(start: datetime, end: datetime, as_of: datetime) -> Plan:
    """One period: payments in ``[start, end)``, events before ``as_of``."""
    if end <= start:
        raise IndicatorError(f"the period is empty: {start.isoformat()} – {end.isoformat()}")
    return Plan(((_epoch(as_of), _epoch(start), _epoch(end)),))


def festival(
    clause_id: str, as_of: datetime, count: int = 1, rulebook: Rulebook | None = None
) -> Plan:
    """The orders a clause covers (VF-8: flower products, domestic merchants, paid in its
    window), judged at ``as_of`` and at ``count − 1`` earlier period ends."""
    rb = rulebook if rulebook is not None else load_rulebook()
    try:
        clause = rb.clause(clause_id)
    except KeyError:
        raise IndicatorError(f"unknown clause {clause_id!r}") from None
    window = clause.effective
    if window.start is None or window.end is None:
        raise IndicatorError(f"{clause_id} has no bounded window")
    step = int(thresholds_at(as_of, rb).setting("period_days") * DAY_S)
    start, end = _epoch(window.start), _epoch(window.end)
    ends = [_epoch(as_of) - k * step for k in range(count)][::-1]
    return Plan(tuple((e, start, min(end, e)) for e in ends if e > start), clause)


def _to_time(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def evaluate(
    src: Sources,
    plan: Plan,
    *,
    by_product: bool = False,
    backend: Any = None,
    rulebook: Rulebook | None = None,
) -> list[Judged]:
    """Every merchant (or product) in every period of ``plan``, judged."""
    if not plan.periods:
        return []
    con = backend if backend is not None else ibis.duckdb.connect()
    period = expressions.periods(plan.periods, backend)
    keys = ["merchant_id", "industry", *(["product_id"] if by_product else [])]
    rows = arrow_rows(con.to_pyarrow(expressions.rates(src, period, keys, plan.scope)))
    if not by_product:
        logistic = arrow_rows(con.to_pyarrow(expressions.logistics(src, period, plan.scope)))
        by_key = {(r["period_end"], r["merchant_id"]): r for r in logistic}
        for r in rows:
            r.update(_experience(r, by_key.get((r["period_end"], r["merchant_id"]), {})))
    th_of = _thresholds(rulebook)
    judged = judge_rows(rows, th_of, _to_time)
    return sorted(judged, key=lambda j: (j.period_end, j.merchant_id, j.product_id or ""))


def _experience(row: dict[str, Any], logistic: dict[str, Any]) -> dict[str, Any]:
    values = {**{k: v for k, v in logistic.items() if k not in row}, **row}
    return {
        **{k: logistic.get(k) for k in expressions.LOGISTICS},
        "experience_score": experience_score(values),
    }


def _thresholds(rulebook: Rulebook | None) -> Any:
    @cache
    def th_of(seconds: int) -> Thresholds:
        return thresholds_at(_to_time(seconds), rulebook)

    return th_of


def judged_periods(judged: Sequence[Judged]) -> list[datetime]:
    return sorted({j.period_end for j in judged})
