"""规则中心 › 政策预演 (policy preview): upload a draft announcement (YAML) and see, before it
is published, the verdicts it would change by clause and by merchant, and what it does to
DR-6 penalties. The CLI's ``lvyue preview`` (``engine.preview``) at business time, on
``LVYUE_PREVIEW_FACTS`` or else the analytics snapshot (``LVYUE_DIAGNOSIS_FACTS``); nothing
is published or stored."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from lvyue.api.deps import SessionDep
from lvyue.diagnosis import kept
from lvyue.store import audit
from lvyue.web.render import page
from lvyue.web.security import Caller, acting, now_of

router = APIRouter()
MAX_DRAFT_BYTES = 256 * 1024
ROWS_SHOWN = 50


def _draft_rulebook(text: bytes, name: str) -> Any:
    """Published announcements plus the uploaded draft; raises the rulebook's errors (the
    uploaded file's name, the clause and field at fault). The draft is saved under a fixed
    name: the uploader's name could be too long for the file system, hold a NUL, or be
    ``categories.yaml`` (read as a taxonomy); errors name the upload, not the server's path."""
    from lvyue.rulebook import RulebookError, load_rulebook

    with tempfile.TemporaryDirectory(prefix="lvyue-draft-") as tmp:
        (Path(tmp) / "draft.yaml").write_bytes(text)
        try:
            drafted = load_rulebook(extra_dirs=(Path(tmp),))
        except RulebookError as error:
            raise RulebookError(name, error.clause, error.field, error.problem) from None
        drafted.parameter_table()  # conflicts surface here, before any facts are read
    return drafted


@router.post("/rules/preview", response_class=HTMLResponse)
async def preview_draft(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(acting("penalties:manage"))],
    draft: Annotated[UploadFile, File()],
) -> Response:
    text = await draft.read(MAX_DRAFT_BYTES + 1)
    name = draft.filename or "draft.yaml"
    context: dict[str, Any] = {"title": "政策预演", "name": name}
    facts = preview_facts()
    if len(text) > MAX_DRAFT_BYTES:
        context["error"] = f"{name}: 草稿超过 {MAX_DRAFT_BYTES // 1024} KiB"
    elif facts is None:
        context["error"] = "未配置评估用的订单快照（LVYUE_DIAGNOSIS_FACTS）。"
    else:
        now = now_of(request)
        # Reading the rulebook and judging the snapshot take seconds: off the event loop, so
        # no other request waits for a preview.
        result, error = await run_in_threadpool(_judge, text, name, facts, now)
        if error is not None:
            context["error"] = error
        else:
            context.update(_tables(result), as_of=now, facts=facts.name)
            audit(session, actor=caller.principal.account_id, action="rules.preview",
                  entity="draft", entity_id=name[:100],
                  detail={"changes": result.changes.num_rows})  # fmt: skip
            session.commit()
    status = 422 if "error" in context else 200
    return page(request, "preview.html", caller, status, **context)


def _judge(text: bytes, name: str, facts: Path, now: datetime) -> tuple[Any, str | None]:
    """The preview of the draft on ``facts`` at ``now``, or the error naming the upload."""
    from lvyue.engine.preview import preview
    from lvyue.facts import FactsError
    from lvyue.rulebook import ConflictError, RulebookError, load_rulebook

    try:
        drafted = _draft_rulebook(text, name)
        return preview(facts, now, load_rulebook(), drafted), None
    except RulebookError as error:
        return None, str(error)
    except (ConflictError, FactsError) as error:
        return None, f"{name}: {error}"


def preview_facts() -> Path | None:
    """The orders the preview judges: ``LVYUE_PREVIEW_FACTS``, else the analytics snapshot."""
    chosen = os.environ.get("LVYUE_PREVIEW_FACTS")
    return Path(chosen) if chosen else kept.configured()[0]


def _tables(result: Any) -> dict[str, Any]:
    return {
        "verdicts": result.verdicts,
        "changed": result.changes.num_rows,
        "status_changes": result.status_changes,
        "by_clause": result.by_clause.slice(0, ROWS_SHOWN).to_pylist(),
        "by_merchant": result.by_merchant.slice(0, ROWS_SHOWN).to_pylist(),
        "examples": result.changes.slice(0, 20).to_pylist(),
        "penalties": _penalties(result.penalties_before, result.penalties_after),
    }


def _penalties(before: Any, after: Any) -> list[tuple[str, float, float]]:
    if before is None or after is None:
        return []
    return [
        ("发货超时订单 late orders", before.late_orders, after.late_orders),
        ("扣分 points", before.points, after.points),
        ("保证金扣除（元）deposit", before.deduction_yuan, after.deduction_yuan),
        ("禁售商品 product bans", before.product_bans, after.product_bans),
    ]
