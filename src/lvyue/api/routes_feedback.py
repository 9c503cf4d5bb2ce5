"""Reviews and complaints (VF-8): ``POST /reviews``, ``POST /complaints`` (``feedback:post``).
A consumer posts about its own order (another's: 404); the platform's feed (operators) about
any, with its own ids and times. Business logic: lvyue.workflows.actions.feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lvyue.api.auth import Principal, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.api.idempotency import IdemKey
from lvyue.api.routes_workflows.common import create_once, service_now
from lvyue.model import format_instant
from lvyue.model.enums import ComplaintReason
from lvyue.model.rows import Instant  # naive: Beijing, as in every facts row
from lvyue.store.permissions import Role
from lvyue.store.tables import Complaint, Review
from lvyue.workflows.actions import feedback
from lvyue.workflows.fields import Ident

Poster = Annotated[Principal, Depends(require("feedback:post"))]
router = APIRouter(tags=["feedback"], dependencies=[Depends(json_only)])
Given = Field(None, description="the platform's feed only (a consumer's are the service's)")


class ReviewIn(BaseModel):
    order_id: Ident
    rating: float = Field(ge=1, le=5, description="1..5 stars (差评: the rulebook's cut)")
    product_id: Ident | None = None
    review_id: Ident | None = Given
    created_at: Instant | None = Given


class ComplaintIn(BaseModel):
    order_id: Ident
    reason: ComplaintReason
    complaint_id: Ident | None = Given
    created_at: Instant | None = Given


class FeedbackOut(BaseModel):
    id: str
    order_id: str
    merchant_id: str
    created_at: str
    detail: dict[str, Any]


def _out(row: Review | Complaint) -> FeedbackOut:
    if isinstance(row, Review):
        key, detail = row.review_id, {"rating": row.rating, "product_id": row.product_id}
    else:
        key, detail = row.complaint_id, {"reason": row.reason}
    return FeedbackOut(id=key, order_id=row.order_id, merchant_id=row.merchant_id,
                       created_at=format_instant(row.created_at), detail=detail)  # fmt: skip


def _post(
    request: Request,
    session: SessionDep,
    principal: Principal,
    key: str | None,
    body: ReviewIn | ComplaintIn,
) -> JSONResponse:
    model = Review if isinstance(body, ReviewIn) else Complaint
    given = body.review_id if isinstance(body, ReviewIn) else body.complaint_id
    values = body.model_dump(exclude={"review_id", "complaint_id", "created_at"})

    def create() -> BaseModel:
        consumer = principal.account_id if principal.role == Role.CONSUMER else None
        row = feedback.post(session, model, values, given_id=given, given_at=body.created_at,
                            consumer_id=consumer, actor=principal.account_id,
                            now=service_now(request))  # fmt: skip
        return _out(row)

    return create_once(request, session, principal, key, body, create)


@router.post("/reviews", status_code=201, response_model=FeedbackOut)
def post_review(
    body: ReviewIn, request: Request, session: SessionDep, principal: Poster, key: IdemKey = None
) -> JSONResponse:
    """A review of an order (VF-8's negative-review rate reads it)."""
    return _post(request, session, principal, key, body)


@router.post("/complaints", status_code=201, response_model=FeedbackOut)
def post_complaint(
    body: ComplaintIn, request: Request, session: SessionDep, principal: Poster, key: IdemKey = None
) -> JSONResponse:
    """A complaint about an order (VF-8's complaint rate reads it)."""
    return _post(request, session, principal, key, body)
