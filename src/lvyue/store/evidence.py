"""BT-9 evidence files (packing videos, monitoring records) behind a storage interface.

A file is stored under its SHA-256 (content-addressed: the same video uploaded twice is one
file) and referred to as ``sha256:<hex>``, the reference a shipment's ``packing_video`` holds.
Both ways are streamed in chunks, never the whole file in memory: an upload is checked as it
arrives (:class:`Intake`: type, size, digest), a download is verified against its digest
before its first byte is served (:class:`Opened`). Limits (ours: the seed names none): a media
type from :data:`MEDIA_TYPES` whose first bytes match it, and at most
``LVYUE_EVIDENCE_MAX_BYTES`` (default :data:`DEFAULT_MAX_BYTES`).

Stores: the local file system (:class:`LocalEvidenceStore`, the default) and an S3-compatible
bucket (:mod:`lvyue.store.evidence_s3`); :func:`evidence_store` picks one from the settings
(docs/decisions/evidence-s3-store.md).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from lvyue.model.files import commit, temporary_beside

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # ours: a few minutes of phone video
CHUNK = 1024 * 1024  # what a read or a write moves at a time
PREFIX = "sha256:"
_REFERENCE = re.compile(r"^sha256:([0-9a-f]{64})$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+$")
_HEAD = 16  # bytes enough to recognise every type below


def _iso_media(head: bytes) -> bool:
    return head[4:8] == b"ftyp"  # MP4 and QuickTime (ISO base media) files


# media type -> (file suffix, does the file start as that type says)
MEDIA_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "video/mp4": (".mp4", _iso_media),
    "video/quicktime": (".mov", _iso_media),
    "video/webm": (".webm", lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
    "image/jpeg": (".jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "image/png": (".png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
}


class EvidenceRefused(ValueError):
    """An upload outside the limits, or a reference that names no intact file.
    ``status``: the HTTP status that says why (413 too large, 415 type, 404 unknown, 409
    changed in the store)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stored:
    reference: str  # sha256:<hex>
    size: int
    media_type: str


@dataclass(frozen=True)
class Opened:
    """A stored file, verified: ``chunks`` yields its bytes (and checks them again as they
    go, so a file changed after the check ends the stream with :class:`EvidenceRefused`)."""

    reference: str
    size: int
    media_type: str
    chunks: Iterator[bytes]


class EvidenceStore(Protocol):
    max_bytes: int

    def put(self, chunks: Iterable[bytes], media_type: str) -> Stored: ...

    def open(self, reference: str) -> Opened: ...


def media_type_of(content_type: str) -> str:
    """The media type of a Content-Type value: its parameters dropped, lower-cased (RFC 9110
    §8.3.1: ``Video/MP4; codecs="avc1.42E01E"`` is ``video/mp4``); "" when it is not one."""
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence if _TOKEN.match(essence) else ""


def parse_reference(reference: str) -> str | None:
    """The hex digest of a ``sha256:<hex>`` reference, None for any other text (an older
    free-text reference, kept as written)."""
    match = _REFERENCE.match(reference)
    return match.group(1) if match else None


def names_a_stored_file(text: str | None) -> bool:
    """Whether written text claims a stored file (``sha256:…``, any case or spacing): only an
    upload sets such a reference, so a writer cannot borrow another shop's file (BT-9)."""
    return (text or "").strip().lower().startswith(PREFIX)


def hexdigest_of(reference: str) -> str:
    """The digest a reference names; 404 for text that names no stored file."""
    hexdigest = parse_reference(reference)
    if hexdigest is None:
        raise EvidenceRefused(404, "not a stored evidence reference")
    return hexdigest


class Intake:
    """An upload checked as it streams: a known media type (415), at most ``max_bytes``
    (413, as soon as the limit is passed), first bytes of that type (415, as soon as they
    arrive), and its SHA-256. Every store takes its uploads through one."""

    def __init__(self, content_type: str, max_bytes: int) -> None:
        self.media_type = media_type_of(content_type)
        if self.media_type not in MEDIA_TYPES:
            raise EvidenceRefused(415, f"media type {content_type!r}: one of {sorted(MEDIA_TYPES)}")
        self.suffix, self._looks_like = MEDIA_TYPES[self.media_type]
        self.max_bytes = max_bytes
        self.size = 0
        self._head = b""
        self._digest = hashlib.sha256()

    def take(self, chunk: bytes) -> bytes:
        """Check one more chunk of the upload; return it to be written."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise EvidenceRefused(413, f"larger than {self.max_bytes:,} bytes")
        if len(self._head) < _HEAD:
            self._head = (self._head + chunk)[:_HEAD]
            if len(self._head) == _HEAD:
                self._check_type()
        self._digest.update(chunk)
        return chunk

    def finish(self) -> Stored:
        """The upload, complete: refused when empty or (if short) not of its type."""
        if self.size == 0:
            raise EvidenceRefused(415, f"the file is empty, not {self.media_type}")
        self._check_type()
        return Stored(PREFIX + self.hexdigest, self.size, self.media_type)

    @property
    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def _check_type(self) -> None:
        if not self._looks_like(self._head):
            raise EvidenceRefused(415, f"the file is not {self.media_type}")


def file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time, closed when done (or abandoned)."""
    with file:
        while chunk := file.read(CHUNK):
            yield chunk


def digest_of(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def changed(reference: str) -> EvidenceRefused:
    return EvidenceRefused(409, f"{reference}: the stored file has changed")


def verified(reference: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` passed on and hashed again, the last one held back until the digest is
    known: a file that changed since it was checked ends the stream with 409 before its
    end (a client sees a short body, never a whole different file)."""
    digest, held = hashlib.sha256(), b""
    for chunk in chunks:
        digest.update(chunk)
        if held:
            yield held
        held = chunk
    if PREFIX + digest.hexdigest() != reference:
        raise changed(reference)
    if held:
        yield held


class LocalEvidenceStore:
    """Files under ``root/<first two hex digits>/<hex><suffix>``, written atomically."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def put(self, chunks: Iterable[bytes], media_type: str) -> Stored:
        intake = Intake(media_type, self.max_bytes)
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = temporary_beside(self.root / "upload")
        try:
            with temporary.open("wb") as out:
                for chunk in chunks:
                    out.write(intake.take(chunk))
            stored = intake.finish()
            target = self._path(intake.hexdigest, intake.suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                commit(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return stored

    def open(self, reference: str) -> Opened:
        """The verified file (read once to check its digest, then streamed); 404 unknown,
        409 changed on disk."""
        hexdigest = hexdigest_of(reference)
        for media_type, (suffix, _) in MEDIA_TYPES.items():
            path = self._path(hexdigest, suffix)
            if path.exists():
                if digest_of(file_chunks(path.open("rb"))) != hexdigest:
                    raise changed(reference)
                size = path.stat().st_size
                return Opened(reference, size, media_type,
                              verified(reference, file_chunks(path.open("rb"))))  # fmt: skip
        raise EvidenceRefused(404, f"{reference}: no such file")

    def _path(self, hexdigest: str, suffix: str) -> Path:
        return self.root / hexdigest[:2] / f"{hexdigest}{suffix}"


def max_bytes() -> int:
    """The size limit of one evidence file (``LVYUE_EVIDENCE_MAX_BYTES``)."""
    return int(os.environ.get("LVYUE_EVIDENCE_MAX_BYTES") or DEFAULT_MAX_BYTES)


def evidence_store() -> EvidenceStore:
    """The configured store. ``LVYUE_EVIDENCE_STORE``: ``local`` (default; the directory
    ``LVYUE_EVIDENCE_DIR``, ``lvyue-evidence`` in the working directory unless set) or
    ``s3`` (:func:`lvyue.store.evidence_s3.from_environment` reads its settings)."""
    kind = (os.environ.get("LVYUE_EVIDENCE_STORE") or "local").strip().lower()
    if kind == "s3":
        from lvyue.store.evidence_s3 import from_environment

        return from_environment(max_bytes())
    if kind != "local":
        raise ValueError(f"LVYUE_EVIDENCE_STORE={kind!r}: 'local' or 's3'")
    root = Path(os.environ.get("LVYUE_EVIDENCE_DIR") or "lvyue-evidence")
    return LocalEvidenceStore(root, max_bytes())
