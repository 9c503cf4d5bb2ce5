"""VF-9's claim check as Ibis expressions: one definition, run on DuckDB or Spark.

Each claim of a promotion is checked on the orders that came from that promotion: naming it
(``orders.promotion_id``), of its shop and its product, paid from its publication on
(``ATTRIBUTED``: an id alone could borrow another shop's orders, or orders paid before the
post, into a claim), in VF-9's scope (flower products of domestic merchants, VF-1) and in the
judged pay window. An order's deadline is the claim's
(lvyue.model.claims.deadline); what it actually got, as known at ``as_of``:

- ship claims: the ship time (waybill upload); delivery claims: the first signed scan, else the
  confirmed receipt (签收 comes before 确认收货, so a receipt in time proves a delivery in time)
- kept: it happened by the deadline; broken: it happened later, or had not happened when the
  deadline passed; pending: the deadline is still ahead and nothing happened yet
- orders never shipped are not judged: a cancelled order got no logistics to compare
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from lvyue.indicators.creators.source import ClaimSources
from lvyue.indicators.expressions import in_scope
from lvyue.model.claims import deadline
from lvyue.rulebook import Clause

CLAIM_KEYS = ("promotion_id", "claim_no")
ATTRIBUTED = ("promotion_id", "merchant_id", "product_id")  # the order's and the promotion's


def order_outcomes(
    src: ClaimSources, scope: Clause | None, pay_start: int, pay_end: int, as_of: int
) -> ir.Table:
    """One row per (attributed order, claim of its promotion): deadline, kept, broken."""
    o = in_scope(src.orders, scope)
    o = o.filter(o.pay_s >= pay_start, o.pay_s < pay_end, o.ship_s.notnull())
    c = src.claims
    j = o.join(c, [o[k] == c[k] for k in ATTRIBUTED]).select(
        *[o[col] for col in o.columns],
        *[c[col] for col in c.columns if col not in o.columns],
    )
    j = j.filter(j.pay_s >= j.published_s)  # an order paid before the post did not come from it
    due = deadline(j.pay_s, j.pay_weight, j.day_weight, j.offset_s)
    shipped = ibis.ifelse(j.ship_s <= as_of, j.ship_s, ibis.null())
    signed = ibis.ifelse(j.signed_s <= as_of, j.signed_s, ibis.null())
    receipt = ibis.ifelse(j.receipt_s <= as_of, j.receipt_s, ibis.null())
    delivered = signed.coalesce(receipt)
    happened = ibis.ifelse(j.event == "ship", shipped, delivered)
    kept = (happened <= due).fill_null(False)
    if_late = (happened > due).fill_null(False) | (happened.isnull() & (due < as_of))
    return j.mutate(deadline_s=due, happened_s=happened, kept=kept, broken=~kept & if_late)


def claim_outcomes(
    src: ClaimSources, scope: Clause | None, pay_start: int, pay_end: int, as_of: int
) -> ir.Table:
    """Per claim of a promotion that has orders: judged orders, broken ones, pending ones."""
    t = order_outcomes(src, scope, pay_start, pay_end, as_of)
    judged = t.kept | t.broken
    return t.group_by(list(CLAIM_KEYS)).aggregate(
        orders=judged.cast("int64").sum(),
        broken=t.broken.cast("int64").sum(),
        pending=(~judged).cast("int64").sum(),
        first_pay_s=t.pay_s.min(),
        last_pay_s=t.pay_s.max(),
    )


def period_outcomes(
    src: ClaimSources, scope: Clause | None, pay_start: int, pay_end: int, periods: ir.Table
) -> ir.Table:
    """Per period ``(period_end, due_from)`` and claim: the orders whose claim became final in
    ``[due_from, period_end)`` — at its deadline, or at payment if that came later (a 2月14日前
    post still up on the 20th) — and how many of them broke it. Final before the period's end,
    an order's outcome is known then: kept if it happened by the deadline, else broken. One
    query for every period (each order's claim falls in one period, judged once)."""
    last = periods.period_end.max().as_scalar()
    t = order_outcomes(src, scope, pay_start, pay_end, 2**62)  # outcomes fixed by the deadline
    t = t.mutate(final_s=ibis.greatest(t.deadline_s, t.pay_s))
    t = t.filter(t.final_s < last)
    j = t.cross_join(periods)
    j = j.filter(j.final_s >= j.due_from, j.final_s < j.period_end)
    return j.group_by(["period_end", *CLAIM_KEYS]).aggregate(
        orders=j.count(), broken=(~j.kept).cast("int64").sum()
    )
