"""Plain-JSON views of clauses and answers (times in Beijing, as announcements write them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lvyue.model.time import format_instant
from lvyue.rulebook.resolver import Answer, ClauseTrace
from lvyue.rulebook.schema import Announcement, Clause, Window
from lvyue.rulebook.table import Conflict
from lvyue.rulebook.values import value_to_json


def window_json(window: Window) -> dict[str, str | None]:
    return {
        "from": format_instant(window.start) if window.start else None,
        "to_exclusive": format_instant(window.end) if window.end else None,
        "as_written": window.describe() if window.bounded else None,
    }


def clause_json(c: Clause) -> dict[str, Any]:
    scope = c.scope
    return {
        "id": c.id,
        "announcement": c.announcement,
        "kind": c.kind.value,
        "parameter": c.parameter,
        "value": value_to_json(c.value) if c.value is not None else None,
        "clock": c.clock.value,
        "window": window_json(c.window),
        "revision": c.revision,
        "version_valid": window_json(c.valid),
        "scope": {
            "merchant_type": sorted(m.value for m in scope.merchant_types)
            if scope.merchant_types is not None
            else None,
            "category": list(scope.categories) if scope.categories is not None else None,
            "ship_mode": sorted(m.value for m in scope.ship_modes)
            if scope.ship_modes is not None
            else None,
            "flags": dict(scope.flags),
        },
        "exception_to": list(c.exception_to),
        "source": c.source,
        "text": c.readable,
        "note": c.note,
        "file": c.file,
    }


def announcement_json(a: Announcement) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "source_kind": a.source_kind.value,
        "source_ref": a.source_ref,
        "published": a.published.isoformat() if a.published else None,
        "effective": a.effective.isoformat() if a.effective else None,
        "partial": a.partial,
        "revisions": [{"label": r.label, "at": format_instant(r.at)} for r in a.revisions],
        "clauses": list(a.clause_ids),
        "file": a.file,
    }


def answer_json(answer: Answer, deadline: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "parameter": answer.parameter,
        "value": value_to_json(answer.value),
        "clause": answer.clause_id,
        "cites": answer.cited,  # with any clause that cancelled an exception (VF-2;DR-1a)
        "announcement": answer.announcement,
        "overridden": list(answer.overridden),
        "clock": answer.clock.value,
        "revision": answer.revision,
    }
    if deadline is not None:
        out["deadline"] = format_instant(deadline)
    return out


def trace_json(t: ClauseTrace) -> dict[str, Any]:
    return {
        "clause": t.clause_id,
        "announcement": t.announcement,
        "applies": t.applies,
        "reason": t.reason,
        "overridden_by": list(t.overridden_by),
        "value": value_to_json(t.value) if t.value is not None else None,
        "revision": t.revision,
    }


def conflict_json(c: Conflict) -> dict[str, Any]:
    return {
        "parameter": c.parameter,
        "clauses": list(c.clause_ids),
        "values": c.detail,
        "example": c.example,
    }
