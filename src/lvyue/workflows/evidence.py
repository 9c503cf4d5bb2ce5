"""BT-9 packing records: which packings of an order the seed asks a video or monitoring
record of, and what a dispute shows of them.

The seed (二手商品BTAS质检履约规范 4.3): "商家在执行前置质检、查验场景,在商品送往质检机构和
订单生成后、发货给消费者时,需对商品打包发货阶段保留相应的视频或监控记录,以便在售中/售后
相关环节出现争议时提供商品举证。"

It is a merchant's duty to keep the record *so that it can give evidence in a dispute*: not
a condition of sending or shipping, and the seed names no violation for a missing one. So a
missing record never blocks a step and is never a violation here; it is shown as missing
wherever the packing is shown (the inspection, the order's evidence, a dispute), for the
platform's after-sales judgement (BT-11) to weigh (docs/decisions/evidence-bt9-duty.md).
The duty holds "在执行前置质检、查验场景": for an item inspected before it was sold (its
inspection made without an order) or an order listed with 前置质检 ticked
(``pre_inspection``); other packings may carry a record too, shown but not due.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lvyue.model.cells import cell_is_true
from lvyue.store.evidence_files import INSPECTION, SHIPMENT, EvidenceFile, versions
from lvyue.store.tables import Order, Shipment
from lvyue.store.workflow_tables import Inspection, InspectionCode

CLAUSE = "BT-9"
SEND, SHIP = "send", "ship"  # 送往质检机构, 发货给消费者


@dataclass(frozen=True)
class Packing:
    """One packing the order went through and the record versions kept of it."""

    stage: str  # send | ship
    subject: str  # the evidence subject: inspection | shipment
    subject_id: str
    due: bool  # BT-9 asks a record of it
    files: list[EvidenceFile] = field(default_factory=list)  # oldest first

    @property
    def missing(self) -> bool:
        return self.due and not self.files


def pre_inspected(row: Inspection) -> bool:
    """The item went to the agency before it was sold (前置质检: 商品发布后、出售前)."""
    return row.order_id is None


def send_due(row: Inspection) -> bool:
    """BT-9 asks a record of this send-out: a pre-inspection the merchant has sent."""
    return pre_inspected(row) and row.carrier is not None


def send_record(session: Session, row: Inspection) -> str:
    """``kept`` (a record of the send-out is stored), ``missing`` (BT-9 asks one, none is
    stored) or ``not_due``."""
    if versions(session, INSPECTION, [row.inspection_id]):
        return "kept"
    return "missing" if send_due(row) else "not_due"


def inspections_of(session: Session, order: Order) -> list[Inspection]:
    """The order's inspections: made for it, or whose code it shipped with."""
    bound = select(InspectionCode.inspection_id).where(
        InspectionCode.bound_order_id == order.order_id
    )
    query = select(Inspection).where(
        Inspection.merchant_id == order.merchant_id,
        or_(Inspection.order_id == order.order_id, Inspection.inspection_id.in_(bound)),
    )
    return list(session.scalars(query.order_by(Inspection.created_at)))


def packings(session: Session, order: Order) -> list[Packing]:
    """The order's packings, send-outs first, each with its records (BT-9)."""
    inspections = inspections_of(session, order)
    scenario = cell_is_true((order.extra or {}).get("pre_inspection")) or any(
        pre_inspected(row) for row in inspections
    )
    sent = [row for row in inspections if row.carrier is not None]
    files = _by_subject(session, INSPECTION, [row.inspection_id for row in sent])
    found = [
        Packing(SEND, INSPECTION, row.inspection_id, scenario, files.get(row.inspection_id, []))
        for row in sent
    ]
    if session.get(Shipment, order.order_id) is not None:
        shipped = _by_subject(session, SHIPMENT, [order.order_id]).get(order.order_id, [])
        found.append(Packing(SHIP, SHIPMENT, order.order_id, scenario, shipped))
    return found


def _by_subject(session: Session, subject: str, ids: list[str]) -> dict[str, list[EvidenceFile]]:
    grouped: dict[str, list[EvidenceFile]] = {}
    for row in versions(session, subject, ids):
        grouped.setdefault(row.subject_id, []).append(row)
    return grouped
