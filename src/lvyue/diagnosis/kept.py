"""Kept diagnoses: ``diagnose_facts`` computed once per facts watermark and kept, for the
console's pages and the demo (which precomputes its merchants' with ``warm``).

A merchant's diagnosis depends only on the analytics snapshot (the facts directory), the
governance state (routes and outlets under control) and the period. Their watermark — the
newest change time of the facts files and of the state's ``state.json`` — keys the result: the
same question has the same answer until either changes. Results are kept in memory and, when
a state directory is configured, on disk under ``STATE/console-diagnoses/WATERMARK/`` as the
API's JSON body, so a restart or another worker reads them instead of diagnosing again, and
``warm`` precomputes them (``lvyue demo``, the benchmark) so no page pays a first view. It lives
with the diagnosis, not the console, so the demo builder may call it (layers: api and cli
never import the console).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lvyue.diagnosis.diagnose import COLD_START_ADVICE
from lvyue.diagnosis.errors import DiagnosisError
from lvyue.diagnosis.workflow import diagnose_facts
from lvyue.model.files import write_bytes_atomically

CACHE_DIR = "console-diagnoses"


def configured() -> tuple[Path | None, Path | None]:
    """The analytics snapshot and governance state the API's diagnosis endpoints read."""
    facts = os.environ.get("LVYUE_DIAGNOSIS_FACTS")
    state = os.environ.get("LVYUE_DIAGNOSIS_STATE")
    return (Path(facts) if facts else None, Path(state) if state else None)


def watermark(facts: Path, state: Path | None) -> str:
    """When the inputs last changed: facts files and the governance state."""
    files = list(facts.glob("*.parquet")) + list(facts.glob("*/*.parquet"))
    if state is not None and (state / "state.json").exists():
        files.append(state / "state.json")
    newest = max((f.stat().st_mtime_ns for f in files), default=0)
    return f"{newest}-{len(files)}"


def body_of(result: Any) -> dict[str, Any]:
    """The API's ``/diagnosis/merchants/{id}`` body of a ``Diagnosis``."""
    body = asdict(result)
    body["period"] = str(result.period)
    return body


def cold_start(merchant: str) -> dict[str, Any]:
    """LD-10 for a merchant with no orders in the snapshot yet (a new shop)."""
    return {
        "merchant_id": merchant, "period": "", "industry": None, "state": "cold_start",
        "volume": 0, "summary": {}, "capability": [], "score": None, "topic": None,
        "topic_status": "cold_start", "controlled": [],
        "recommendations": [asdict(r) for r in COLD_START_ADVICE],
    }  # fmt: skip


def _file(state: Path, mark: str, merchant: str, period: str | None) -> Path:
    name = hashlib.sha256(f"{merchant}\0{period or ''}".encode()).hexdigest()[:32]
    return state / CACHE_DIR / mark / f"{name}.json"


def diagnosis(facts: Path, state: Path | None, merchant: str, period: str | None) -> dict[str, Any]:
    """The merchant's diagnosis body (raises the diagnosis errors of a bad period or facts)."""
    return _cached(facts, state, watermark(facts, state), merchant, period or None)


@functools.lru_cache(maxsize=512)
def _cached(
    facts: Path, state: Path | None, mark: str, merchant: str, period: str | None
) -> dict[str, Any]:
    stored = _file(state, mark, merchant, period) if state is not None else None
    if stored is not None and stored.exists():
        loaded: dict[str, Any] = json.loads(stored.read_text("utf-8"))
        return loaded
    body = _compute(facts, state, merchant, period)
    if stored is not None:
        write_bytes_atomically(stored, json.dumps(body, ensure_ascii=False).encode())
    return body


def _compute(facts: Path, state: Path | None, merchant: str, period: str | None) -> dict[str, Any]:
    try:
        return body_of(diagnose_facts(facts, merchant, period, state))
    except DiagnosisError as error:
        if "no orders" in str(error) and period is None:
            return cold_start(merchant)  # not in the snapshot at all: a new merchant
        raise


def warm(facts: Path, state: Path | None, merchants: list[str]) -> int:
    """Diagnose ``merchants`` (default period) now, so their pages read a kept result."""
    for merchant in merchants:
        diagnosis(facts, state, merchant, None)
    return len(merchants)


def clear() -> None:
    """Forget the in-memory results (the benchmark measures each backend from cold)."""
    _cached.cache_clear()
