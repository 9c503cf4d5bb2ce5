"""Creators (达人) in the service (VF-1, VF-9): an operator registers a creator; the creator (or
an operator) records the products it shares and posts its promotions, whose texts make the
logistics claims VF-9 checks; the measures recorded on creators, with why and until when.
Presentation only: the rules live in lvyue.workflows.actions.creators and .measures.

Tenancy: a creator account acts and reads only as its own creator (its ``organisation``);
another creator's id answers exactly as an id nobody has (404 on a path, 422 in a body)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lvyue.api.auth import Principal, require
from lvyue.api.deps import SessionDep, json_only
from lvyue.api.idempotency import IdemKey
from lvyue.api.routes_workflows.common import PageDep, create_once, domain_errors, iso, service_now
from lvyue.model import format_instant
from lvyue.model.claims import parse_claims
from lvyue.store.creator_tables import Creator, CreatorShare, Promotion
from lvyue.store.permissions import MERCHANT_ROLES, Role
from lvyue.store.workflow_tables import Measure
from lvyue.workflows.actions import creators
from lvyue.workflows.actions import measures as measure_actions
from lvyue.workflows.fields import Ident, Name, Text

router = APIRouter(prefix="/creators", tags=["creators"], dependencies=[Depends(json_only)])
Register = Annotated[Principal, Depends(require("merchants:manage"))]
Poster = Annotated[Principal, Depends(require("promotions:post"))]
Viewer = Annotated[Principal, Depends(require("claims:view"))]
CreatorId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Id = Annotated[str | None, Query(max_length=64)]


class CreatorIn(BaseModel):
    creator_id: Ident
    name: Name


class CreatorOut(BaseModel):
    creator_id: str
    name: str
    created_at: str


class ShareIn(BaseModel):
    product_id: Ident
    merchant_id: Ident


class ShareOut(BaseModel):
    creator_id: str
    product_id: str
    merchant_id: str


class PromotionIn(BaseModel):
    promotion_id: Ident
    product_id: Ident
    text: Text = Field(description="the post's text; its logistics claims are read from it")
    creator_id: Ident | None = Field(None, description="a creator: its own (the default)")
    merchant_id: Ident | None = Field(
        None, description="the product's shop; required for a merchant's own listing"
    )
    published_at: datetime | None = Field(
        None, description="operators only (ISO 8601 with an offset); a creator's: when posted"
    )


class ClaimOut(BaseModel):
    kind: str
    phrase: str
    event: str


class PromotionOut(BaseModel):
    promotion_id: str
    product_id: str
    merchant_id: str
    creator_id: str | None
    published_at: str
    text: str
    claims: list[ClaimOut] = Field(description="the logistics claims VF-9 will check")


class CreatorMeasureOut(BaseModel):
    measure_id: int
    creator_id: str | None
    merchant_id: str | None
    product_id: str | None
    kind: str
    state: str = Field(description="active, or lifted")
    reason: str = Field(description="why: the claims and the orders that did not get them")
    clause: str
    start: str
    until: str | None = Field(description="active: the earliest end if no claim is false again")
    lifted_at: str | None
    lifted_by: str | None = Field(description="rule:VF-9, or the operator's account")


def _caller(principal: Principal) -> creators.Caller:
    if principal.role == Role.CREATOR:
        return creators.Caller(principal.account_id, principal.organisation or "")
    return creators.Caller(principal.account_id)


def _promotion_out(row: Promotion) -> PromotionOut:
    claims = parse_claims(row.text, row.published_at)
    return PromotionOut(
        promotion_id=row.promotion_id, product_id=row.product_id, merchant_id=row.merchant_id,
        creator_id=row.creator_id, published_at=format_instant(row.published_at), text=row.text,
        claims=[ClaimOut(kind=c.kind, phrase=c.phrase, event=c.event) for c in claims],
    )  # fmt: skip


@router.post("", status_code=201, response_model=CreatorOut)
def register_creator(
    body: CreatorIn,
    request: Request,
    session: SessionDep,
    principal: Register,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """An operator registers a creator (达人); its accounts follow (POST /accounts, role
    ``creator``, ``organisation`` = this ``creator_id``)."""

    def create() -> BaseModel:
        row = creators.register(session, creator_id=body.creator_id, name=body.name,
                                actor=principal.account_id, now=service_now(request))  # fmt: skip
        return CreatorOut(creator_id=row.creator_id, name=row.name,
                          created_at=format_instant(row.created_at))  # fmt: skip

    return create_once(request, session, principal, idempotency_key, body, create)


@router.post("/{creator_id}/shares", status_code=201, response_model=ShareOut)
def share_product(
    creator_id: CreatorId,
    body: ShareIn,
    request: Request,
    session: SessionDep,
    principal: Poster,
) -> ShareOut:
    """The creator shares a merchant's product (商品分享: its showcase, cart or live stream);
    only shared products may be promoted. Sharing it again changes nothing."""
    caller = _caller(principal)
    if caller.creator_id is not None and creator_id != caller.creator_id:
        raise HTTPException(404, detail="not found")  # another creator's: as if missing
    with domain_errors(session):
        row = creators.share(session, caller, creator_id=creator_id, product_id=body.product_id,
                             merchant_id=body.merchant_id, now=service_now(request))  # fmt: skip
        out = ShareOut(creator_id=row.creator_id, product_id=row.product_id,
                       merchant_id=row.merchant_id)  # fmt: skip
        session.commit()
    return out


@router.get("/{creator_id}/shares", response_model=list[ShareOut])
def list_shares(
    creator_id: CreatorId, session: SessionDep, principal: Viewer, response: Response,
    page: PageDep,
) -> list[ShareOut]:  # fmt: skip
    """The products a creator shares (a creator: its own; operators: any)."""
    own = principal.organisation if principal.role == Role.CREATOR else None
    if not principal.is_operator and own != creator_id:
        raise HTTPException(404, detail="not found")
    if session.get(Creator, creator_id) is None:
        raise HTTPException(404, detail="not found")
    rows: list[CreatorShare] = page.of(creators.shares(session, creator_id), response)
    return [ShareOut(creator_id=r.creator_id, product_id=r.product_id,
                     merchant_id=r.merchant_id) for r in rows]  # fmt: skip


@router.post("/promotions", status_code=201, response_model=PromotionOut)
def post_promotion(
    body: PromotionIn,
    request: Request,
    session: SessionDep,
    principal: Poster,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """A promotion recorded (VF-9): a creator posts its own, for a product it shares; an
    operator posts one for a creator's shared product, or a merchant's own listing (no
    ``creator_id``). Orders name it in ``promotion_id`` when they are ingested. Audited."""
    if body.published_at is not None and body.published_at.tzinfo is None:
        raise HTTPException(
            422, detail={"error": "published_at needs a UTC offset", "field": "published_at"}
        )

    def create() -> BaseModel:
        given = creators.PromotionIn(**body.model_dump())
        row = creators.post(session, _caller(principal), given, now=service_now(request))
        return _promotion_out(row)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/promotions", response_model=list[PromotionOut])
def list_promotions(
    session: SessionDep, principal: Viewer, response: Response, page: PageDep,
    creator_id: Id = None,
) -> list[PromotionOut]:  # fmt: skip
    """Recorded promotions and the claims their texts make: a creator its own, a merchant those
    on its products, operators all (or one creator's)."""
    if principal.role == Role.CREATOR:
        if creator_id not in (None, principal.organisation):
            raise HTTPException(404, detail="not found")
        rows = creators.of_party(session, creator_id=principal.organisation or "")
    elif principal.role in MERCHANT_ROLES:
        rows = creators.of_party(session, creator_id=creator_id, merchant_id=principal.merchant_id)
    else:
        rows = creators.of_party(session, creator_id=creator_id)
    return [_promotion_out(r) for r in page.of(rows, response)]


def _measure_out(row: Measure) -> CreatorMeasureOut:
    return CreatorMeasureOut(
        measure_id=row.measure_id, creator_id=row.creator_id, merchant_id=row.merchant_id,
        product_id=row.product_id, kind=row.kind, state=row.state, reason=row.reason,
        clause=row.clause, start=format_instant(row.created_at), until=iso(row.until),
        lifted_at=iso(row.lifted_at), lifted_by=row.lifted_by,
    )  # fmt: skip


@router.get("/measures/recorded", response_model=list[CreatorMeasureOut])
def recorded_measures(
    session: SessionDep, principal: Viewer, response: Response, page: PageDep,
    creator_id: Id = None,
) -> list[CreatorMeasureOut]:  # fmt: skip
    """The measures recorded on creators (VF-9; by rule, ``lvyue creators measures --record``,
    or by an operator): why, since when, until when, and who lifted them. A creator sees its
    own; a merchant its own VF-9 measures (its own listings); operators all (or one creator's)."""
    if principal.role == Role.CREATOR:
        if creator_id not in (None, principal.organisation):
            raise HTTPException(404, detail="not found")
        rows = measure_actions.of_creators(session, principal.organisation or "")
    elif principal.role in MERCHANT_ROLES:
        if creator_id is not None:
            raise HTTPException(404, detail="not found")  # a creator's measures are its own
        mine = measure_actions.of_merchant(session, principal.merchant_id)
        rows = [r for r in mine if r.clause.split(";")[0] == creators.CLAUSE]
    else:
        rows = measure_actions.of_creators(session, creator_id)
    return [_measure_out(r) for r in page.of(rows, response)]
