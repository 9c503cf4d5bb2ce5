"""Compiled DuckDB plans kept in a folder (an incremental state's ``plans/``).

Compiling the checks' Ibis expressions to SQL takes seconds (30 s on a loaded 2-core machine),
more than an incremental run's whole work, and every ``lvyue evaluate --state`` is a fresh
process. The SQL depends only on the shape of the inputs (the key ``batch._on_duckdb`` caches
by) and on the code that builds it, so a plan is stored under a digest of both: the key's text,
the source of the packages the expressions come from, and the Ibis and DuckDB versions. Another
shape, another lvyue or another library version is another file; a file that does not read
back is compiled again.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import duckdb
import ibis

from lvyue.model.files import write_atomically

_PACKAGES = ("engine", "model", "rulebook", "facts")  # what the SQL can depend on

Steps = list[tuple[str, str]]


@cache
def _code() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{ibis.__version__} {duckdb.__version__}".encode())
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _file(folder: Path, key: object) -> Path:
    name = hashlib.sha256(f"{_code()} {key!r}".encode()).hexdigest()[:32]
    return folder / f"{name}.json"


def load(folder: Path, key: object) -> tuple[Steps, str] | None:
    """The steps and final SQL stored for ``key``, or None."""
    try:
        data = json.loads(_file(folder, key).read_text(encoding="utf-8"))
        steps = [(str(name), str(sql)) for name, sql in data["steps"]]
        return steps, str(data["final"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(folder: Path, key: object, steps: Steps, final: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"steps": steps, "final": final})
    write_atomically(_file(folder, key), lambda tmp: tmp.write_text(text, encoding="utf-8"))
