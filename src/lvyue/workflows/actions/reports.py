"""Report-centre use cases (SF-8): file, upload evidence, withdraw, review."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lvyue.engine.online import Resolves
from lvyue.model.time import BEIJING
from lvyue.store.audit import audit
from lvyue.store.tables import Merchant, Order
from lvyue.store.workflow_tables import Report, ReportEvidence
from lvyue.workflows import reports
from lvyue.workflows.actions import violations
from lvyue.workflows.actions.common import NotFound, fire
from lvyue.workflows.machine import Conflict, Refusal


def load(session: Session, report_id: str, merchant_id: str | None) -> Report:
    """The report; NotFound when missing or another merchant's (``merchant_id`` None: any)."""
    row = session.get(Report, report_id)
    if row is None or (merchant_id is not None and row.merchant_id != merchant_id):
        raise NotFound(f"report {report_id} not found")
    return row


def file(
    session: Session, draft: reports.ReportDraft, *, merchant_id: str, actor: str, now: datetime
) -> Report:
    """File a report; every order it names must be the merchant's own."""
    if draft.order_ids:
        owned = set(
            session.scalars(
                select(Order.order_id).where(
                    Order.order_id.in_(draft.order_ids), Order.merchant_id == merchant_id
                )
            )
        )
        missing = [o for o in draft.order_ids if o not in owned]
        if missing:
            raise Refusal(f"unknown order(s): {', '.join(missing[:5])}", field="order_ids")
        _no_pending_duplicate(session, draft, merchant_id)
    row = Report(
        report_id=f"RPT-{secrets.token_hex(6).upper()}",
        merchant_id=merchant_id,
        type=draft.type.value,
        reason=draft.reason.value if draft.reason else None,
        description=draft.description,
        order_ids=list(draft.order_ids),
        period_start=draft.period_start,
        period_end=draft.period_end,
        latest_ship_date=draft.latest_ship_date,
        regions=list(draft.regions),
        state=reports.MACHINE.initial,
        version=1,
        filed_by=actor,
        filed_at=now,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="report.file",
        entity=reports.WORKFLOW,
        entity_id=row.report_id,
        merchant_id=merchant_id,
        clause="SF-8",
        detail={"type": row.type, "orders": len(row.order_ids), "to": row.state},
        at=now,
    )
    return row


class DuplicateReport(Conflict):
    """A report of the same type on an order a pending report already names (HTTP 409 with
    that report's id: add evidence to it, or withdraw it first)."""

    def __init__(self, pending: Report, orders: list[str]) -> None:
        super().__init__(
            f"order(s) {', '.join(orders[:5])} already in pending report {pending.report_id} "
            f"of type {pending.type}: add evidence to it, or withdraw it first",
            clause="SF-8",
            field="order_ids",
        )
        self.pending_report_id = pending.report_id

    def as_dict(self) -> dict[str, str | None]:
        return {**super().as_dict(), "pending_report_id": self.pending_report_id}


def _no_pending_duplicate(session: Session, draft: reports.ReportDraft, merchant_id: str) -> None:
    """One pending report per order and type: a second would be reviewed twice (and decided
    twice). The merchant's row is locked first (PostgreSQL), so two filed at once are
    checked one after the other."""
    session.execute(
        select(Merchant.merchant_id).where(Merchant.merchant_id == merchant_id).with_for_update()
    )
    named = set(draft.order_ids)
    pending = session.scalars(
        select(Report)
        .where(
            Report.merchant_id == merchant_id,
            Report.state == "pending",
            Report.type == draft.type.value,
        )
        .order_by(Report.filed_at)
    )
    for row in pending:
        both = [o for o in row.order_ids if o in named]
        if both:
            raise DuplicateReport(row, both)


def evidence_count(session: Session, report_id: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(ReportEvidence)
        .where(ReportEvidence.report_id == report_id)
    )
    return int(count or 0)


def evidence_of(session: Session, row: Report) -> list[ReportEvidence]:
    """The report's evidence files, oldest first (what a reviewer looks at before deciding)."""
    return list(
        session.scalars(
            select(ReportEvidence)
            .where(ReportEvidence.report_id == row.report_id)
            .order_by(ReportEvidence.evidence_id)
        )
    )


def evidence_file(session: Session, row: Report, evidence_id: int) -> ReportEvidence:
    """One evidence file of the report; NotFound for another report's."""
    evidence = session.get(ReportEvidence, evidence_id)
    if evidence is None or evidence.report_id != row.report_id:
        raise NotFound(f"evidence {evidence_id} of report {row.report_id} not found")
    return evidence


def add_evidence(
    session: Session,
    row: Report,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    actor: str,
    now: datetime,
) -> ReportEvidence:
    """Attach an evidence file to a pending report (type and size limits: ``reports``)."""
    if row.state != "pending":
        raise Refusal(f"report {row.report_id} is {row.state}; evidence is closed", field="state")
    reports.check_evidence(content_type, data, evidence_count(session, row.report_id))
    evidence = ReportEvidence(
        report_id=row.report_id,
        filename=filename[:255],
        content_type=content_type.split(";")[0].strip().lower(),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=actor,
        uploaded_at=now,
    )
    session.add(evidence)
    session.flush()
    audit(
        session,
        actor=actor,
        action="report.evidence",
        entity=reports.WORKFLOW,
        entity_id=row.report_id,
        merchant_id=row.merchant_id,
        clause="SF-8",
        detail={"file": evidence.filename, "sha256": evidence.sha256, "size": evidence.size},
        at=now,
    )
    return evidence


def review(
    session: Session,
    rules: Resolves,
    row: Report,
    *,
    approve: bool,
    reason: str | None,
    actor: str,
    now: datetime,
) -> None:
    """The operator's decision; a rejection needs a reason, an approval needs evidence. An
    approval withdraws the covered orders' violations the engine no longer finds (SF-8)."""
    event = "approve" if approve else "reject"
    reports.MACHINE.require(row.state, event, row.report_id)
    reports.check_review(event, reason, evidence_count(session, row.report_id))
    covered = list(row.order_ids)
    if approve and not covered:
        covered = covered_orders(session, row)
    fire(
        session,
        reports.MACHINE,
        row,
        event,
        subject_id=row.report_id,
        actor=actor,
        merchant_id=row.merchant_id,
        at=now,
        detail={"reason": reason},
        changes={
            "reviewed_by": actor,
            "reviewed_at": now,
            "review_reason": reason,
            "order_ids": covered,
        },
    )
    if approve:
        violations.reconsider(session, rules, covered, clause="SF-8", now=now)


# Facts-format order columns naming the destination, for a report's areas (地区).
_AREA_COLUMNS = ("dest_province", "dest_city", "dest_district")


def covered_orders(session: Session, row: Report) -> list[str]:
    """The orders a report without an order list covers: the merchant's orders paid in the
    affected period (Beijing days) and, when areas are given, bound for one of them."""
    if row.period_start is None or row.period_end is None:
        return []
    start = datetime.combine(row.period_start, time(), BEIJING)
    end = datetime.combine(row.period_end + timedelta(days=1), time(), BEIJING)
    query = select(Order).where(
        Order.merchant_id == row.merchant_id, Order.pay_time >= start, Order.pay_time < end
    )
    areas = set(row.regions)
    return [
        o.order_id
        for o in session.scalars(query.order_by(Order.order_id).limit(reports.MAX_ORDERS))
        if not areas or areas & {str(o.extra.get(c, "")) for c in _AREA_COLUMNS}
    ]


def withdraw(session: Session, row: Report, *, actor: str, now: datetime) -> None:
    fire(
        session,
        reports.MACHINE,
        row,
        "withdraw",
        subject_id=row.report_id,
        actor=actor,
        merchant_id=row.merchant_id,
        at=now,
    )


def draft_of(row: Report) -> reports.ReportDraft:
    return reports.ReportDraft.model_validate(
        {
            "type": row.type,
            "reason": row.reason,
            "description": row.description,
            "order_ids": row.order_ids,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "latest_ship_date": row.latest_ship_date,
            "regions": row.regions,
        }
    )


def facts(session: Session, merchant_id: str | None = None) -> list[dict[str, Any]]:
    """Reports as rows of the facts format's ``reports`` table, for the engine."""
    query = select(Report).where(Report.state.in_(("pending", "approved", "rejected")))
    if merchant_id is not None:
        query = query.where(Report.merchant_id == merchant_id)
    return [
        reports.as_fact(r.report_id, r.merchant_id, r.state, draft_of(r))
        for r in session.scalars(query.order_by(Report.report_id))
    ]


def approved_for_order(session: Session, order_id: str, merchant_id: str) -> list[Report]:
    """Approved reports of the merchant that name the order."""
    rows = session.scalars(
        select(Report).where(Report.merchant_id == merchant_id, Report.state == "approved")
    )
    return [r for r in rows if order_id in r.order_ids]
