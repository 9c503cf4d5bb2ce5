"""BT-9 evidence files (packing videos, monitoring records) behind a storage interface.

A file is stored under its SHA-256 (content-addressed: the same video uploaded twice is one
file) and referred to as ``sha256:<hex>``, the reference a shipment's ``packing_video`` holds.
Reading verifies the checksum, so a file changed on disk is refused, never served. Limits
(ours: the seed names none): a media type from :data:`MEDIA_TYPES` whose first bytes match
it, and at most ``LVYUE_EVIDENCE_MAX_BYTES`` (default :data:`DEFAULT_MAX_BYTES`). The local
file system (``LVYUE_EVIDENCE_DIR``) is the default store; another store (an S3-compatible
one) implements :class:`EvidenceStore`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lvyue.model.files import commit, temporary_beside

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # ours: a few minutes of phone video
PREFIX = "sha256:"
_REFERENCE = re.compile(r"^sha256:([0-9a-f]{64})$")


def _iso_media(head: bytes) -> bool:
    return head[4:8] == b"ftyp"  # MP4 and QuickTime (ISO base media) files


# media type -> (file suffix, does the file start as that type says)
MEDIA_TYPES = {
    "video/mp4": (".mp4", _iso_media),
    "video/quicktime": (".mov", _iso_media),
    "video/webm": (".webm", lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
    "image/jpeg": (".jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "image/png": (".png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
}


class EvidenceRefused(ValueError):
    """An upload outside the limits, or a reference that names no intact file.
    ``status``: the HTTP status that says why (413 too large, 415 type, 404 unknown, 409
    changed on disk)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stored:
    reference: str  # sha256:<hex>
    size: int
    media_type: str


class EvidenceStore(Protocol):
    def put(self, chunks: Iterable[bytes], media_type: str) -> Stored: ...

    def read(self, reference: str) -> tuple[bytes, str]: ...


def parse_reference(reference: str) -> str | None:
    """The hex digest of a ``sha256:<hex>`` reference, None for any other text (an older
    free-text reference, kept as written)."""
    match = _REFERENCE.match(reference)
    return match.group(1) if match else None


class LocalEvidenceStore:
    """Files under ``root/<first two hex digits>/<hex><suffix>``, written atomically."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def put(self, chunks: Iterable[bytes], media_type: str) -> Stored:
        if media_type not in MEDIA_TYPES:
            raise EvidenceRefused(415, f"media type {media_type!r}: one of {sorted(MEDIA_TYPES)}")
        suffix, looks_like = MEDIA_TYPES[media_type]
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = temporary_beside(self.root / "upload")
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with temporary.open("wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise EvidenceRefused(413, f"larger than {self.max_bytes:,} bytes")
                    head = head if len(head) >= 16 else (head + chunk)[:16]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0 or not looks_like(head):
                raise EvidenceRefused(415, f"the file is not {media_type}")
            target = self._path(digest.hexdigest(), suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                commit(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return Stored(PREFIX + digest.hexdigest(), size, media_type)

    def read(self, reference: str) -> tuple[bytes, str]:
        """The file's bytes and media type; refused when unknown or changed on disk."""
        hexdigest = parse_reference(reference)
        if hexdigest is None:
            raise EvidenceRefused(404, "not a stored evidence reference")
        for media_type, (suffix, _) in MEDIA_TYPES.items():
            path = self._path(hexdigest, suffix)
            if path.exists():
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != hexdigest:
                    raise EvidenceRefused(409, f"{reference}: the stored file has changed")
                return data, media_type
        raise EvidenceRefused(404, f"{reference}: no such file")

    def _path(self, hexdigest: str, suffix: str) -> Path:
        return self.root / hexdigest[:2] / f"{hexdigest}{suffix}"


def evidence_store() -> EvidenceStore:
    """The configured store: the local directory ``LVYUE_EVIDENCE_DIR`` (default
    ``lvyue-evidence`` in the working directory), ``LVYUE_EVIDENCE_MAX_BYTES`` at most."""
    root = Path(os.environ.get("LVYUE_EVIDENCE_DIR") or "lvyue-evidence")
    limit = int(os.environ.get("LVYUE_EVIDENCE_MAX_BYTES") or DEFAULT_MAX_BYTES)
    return LocalEvidenceStore(root, limit)
