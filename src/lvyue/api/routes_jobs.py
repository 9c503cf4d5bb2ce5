"""Ingestion jobs: what a large upload answered 202 with, and how far it got."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from lvyue.api.auth import Principal, current_principal
from lvyue.api.deps import SessionDep
from lvyue.model import format_instant
from lvyue.store.tables import IngestJob

router = APIRouter(tags=["facts"], dependencies=[Depends(current_principal)])


class JobAccepted(BaseModel):
    job_id: int
    table: str
    status: str = "queued"
    rows_total: int
    location: str = Field(description="GET it for progress and result")


class JobOut(BaseModel):
    job_id: int
    table: str
    status: str = Field(description="queued, running, done or failed")
    rows_total: int
    rows_done: int
    result: dict[str, Any] | None = Field(
        description="created, updated, unchanged, quarantined (ids), errors (the first 100), "
        "unknown_columns — so far, once the job has finished"
    )
    error: str | None
    created_at: str
    finished_at: str | None


def accepted(job: IngestJob) -> JobAccepted:
    return JobAccepted(
        job_id=job.job_id,
        table=job.source,
        rows_total=job.rows_total,
        location=f"/ingest/jobs/{job.job_id}",
    )


@router.get("/ingest/jobs/{job_id}")
def get_job(
    job_id: Annotated[str, Path(max_length=10)],
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
) -> JobOut:
    """Progress and result of an upload job: the account that sent it, or an operator
    (anyone else: 404, as for an id that does not exist)."""
    number = int(job_id) if job_id.isdigit() and int(job_id) <= 2_147_483_647 else None
    job = None if number is None else session.get(IngestJob, number)
    if job is None or not (principal.is_operator or job.account_id == principal.account_id):
        raise HTTPException(404, detail="not found")
    return JobOut(
        job_id=job.job_id,
        table=job.source,
        status=job.status,
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        result=job.result,
        error=job.error,
        created_at=format_instant(job.created_at),
        finished_at=None if job.finished_at is None else format_instant(job.finished_at),
    )
