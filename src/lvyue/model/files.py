"""Files written whole or not at all: the one atomic writer every layer uses.

A reader (a second ``lvyue`` process, a spreadsheet, the service) sees the old file or the
new one, never half of it: the data goes to a fresh temporary file in the same directory
(same file system, so the rename is atomic) and ``os.replace`` moves it into place. Each
writer gets its own temporary name (``mkstemp``), so two writers of one file never share one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

SHARED_MODE = 0o644  # mkstemp makes 0600; what we write is meant to be read by others


def temporary_beside(path: Path) -> Path:
    """A new, empty temporary file next to ``path`` (hidden, ``.name.*.tmp``), for a writer
    that stages several files and moves them into place together (see ``commit``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(name, SHARED_MODE)
    return Path(name)


def commit(temporary: Path, path: Path) -> None:
    """Move a staged ``temporary`` into place (atomically replacing ``path``)."""
    os.replace(temporary, path)


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file next to ``path``, renamed into place only when complete;
    on any error the temporary file is removed and ``path`` is left as it was."""
    temporary = temporary_beside(path)
    try:
        write(temporary)
        commit(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    write_atomically(path, lambda temporary: temporary.write_bytes(data))


def write_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
