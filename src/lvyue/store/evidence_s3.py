"""BT-9 evidence files in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, OSS's S3 API):
the production store, with the same checks as the local one (lvyue.store.evidence.Intake on
the way in, the digest verified before the first byte on the way out).

Keys are ``<prefix><first two hex digits>/<hex><suffix>``, as the local store names files.
An upload streams into a multipart upload under ``<prefix>uploads/<random>`` (one part of
:data:`PART_BYTES` in memory at a time; a refused one is aborted), then is copied server-side
to its content key and the staging object deleted: the key is the digest, known only at the
end. A download is copied to a spooled temporary file while hashed (one GET, memory bounded),
then served from it. docs/decisions/evidence-s3-store.md says why boto3 and these numbers.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from lvyue.store.evidence import (
    CHUNK,
    MEDIA_TYPES,
    EvidenceRefused,
    Intake,
    Opened,
    Stored,
    changed,
    file_chunks,
    hexdigest_of,
    verified,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_BYTES = 8 * 1024 * 1024  # S3 parts are 5 MiB at least (but the last); 8 is boto3's default
COPY_LIMIT = 5 * 1024**3  # CopyObject copies up to 5 GiB in one call


@dataclass(frozen=True)
class S3Settings:
    """Where the bucket is: ``endpoint`` None for AWS itself; credentials come from boto3's
    usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance
    role), never from lvyue's own settings."""

    bucket: str
    prefix: str = "evidence/"
    endpoint: str | None = None
    region: str | None = None


def from_environment(max_bytes: int) -> S3EvidenceStore:
    """The store ``LVYUE_EVIDENCE_S3_BUCKET`` (required), ``LVYUE_EVIDENCE_S3_PREFIX``
    (default ``evidence/``), ``LVYUE_EVIDENCE_S3_ENDPOINT`` (an S3-compatible server's URL)
    and ``LVYUE_EVIDENCE_S3_REGION`` name."""
    bucket = os.environ.get("LVYUE_EVIDENCE_S3_BUCKET") or ""
    if not bucket:
        raise ValueError("LVYUE_EVIDENCE_STORE=s3 needs LVYUE_EVIDENCE_S3_BUCKET")
    settings = S3Settings(
        bucket,
        os.environ.get("LVYUE_EVIDENCE_S3_PREFIX") or "evidence/",
        os.environ.get("LVYUE_EVIDENCE_S3_ENDPOINT") or None,
        os.environ.get("LVYUE_EVIDENCE_S3_REGION") or None,
    )
    return S3EvidenceStore(client_for(settings.endpoint, settings.region), settings, max_bytes)


@lru_cache(maxsize=4)
def client_for(endpoint: str | None, region: str | None) -> S3Client:
    """One client per endpoint (a client is thread-safe and costs ~50 ms to build)."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=region)


class S3EvidenceStore:
    def __init__(self, client: S3Client, settings: S3Settings, max_bytes: int) -> None:
        if max_bytes > COPY_LIMIT:
            raise ValueError(f"evidence files up to {COPY_LIMIT:,} bytes on S3 (one copy)")
        self.client = client
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.max_bytes = max_bytes

    def put(self, chunks: Iterable[bytes], media_type: str) -> Stored:
        intake = Intake(media_type, self.max_bytes)
        staging = f"{self.prefix}uploads/{secrets.token_hex(16)}"
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=staging, ContentType=intake.media_type
        )["UploadId"]
        try:
            parts = self._parts(staging, upload, chunks, intake)
            stored = intake.finish()
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=staging, UploadId=upload,
                MultipartUpload={"Parts": parts},
            )  # fmt: skip
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=staging, UploadId=upload)
            raise
        try:
            target = self._key(intake.hexdigest, intake.suffix)
            if not self._exists(target):
                self.client.copy_object(
                    Bucket=self.bucket, Key=target, ContentType=intake.media_type,
                    CopySource={"Bucket": self.bucket, "Key": staging},
                    MetadataDirective="REPLACE",
                )  # fmt: skip
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=staging)
        return stored

    def _parts(
        self, key: str, upload: str, chunks: Iterable[bytes], intake: Intake
    ) -> list[CompletedPartTypeDef]:
        parts: list[CompletedPartTypeDef] = []
        buffer = bytearray()

        def send() -> None:
            number = len(parts) + 1
            answer = self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=number,
                Body=bytes(buffer),
            )  # fmt: skip
            parts.append({"ETag": answer["ETag"], "PartNumber": number})
            buffer.clear()

        for chunk in chunks:
            buffer += intake.take(chunk)
            if len(buffer) >= PART_BYTES:
                send()
        if buffer or not parts:
            send()
        return parts

    def open(self, reference: str) -> Opened:
        """The verified object (copied once to a spooled temporary file while hashed, then
        served from it); 404 unknown, 409 changed in the bucket."""
        hexdigest = hexdigest_of(reference)
        key, media_type = self._find(hexdigest)
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        spool = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (returned open)
        try:
            if _copy_hashing(body.iter_chunks(CHUNK), spool) != hexdigest:
                raise changed(reference)
            size = spool.tell()
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return Opened(reference, size, media_type, verified(reference, file_chunks(spool)))

    def _find(self, hexdigest: str) -> tuple[str, str]:
        """The stored key of a digest and its media type (one listing, not one HEAD per
        suffix); 404 when there is none."""
        stem = self._key(hexdigest, "")
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=stem)
        keys = {item.get("Key", "") for item in listed.get("Contents", [])}
        for media_type, (suffix, _) in MEDIA_TYPES.items():
            if stem + suffix in keys:
                return stem + suffix, media_type
        raise EvidenceRefused(404, f"sha256:{hexdigest}: no such file")

    def _exists(self, key: str) -> bool:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(item.get("Key") == key for item in listed.get("Contents", []))

    def _key(self, hexdigest: str, suffix: str) -> str:
        return f"{self.prefix}{hexdigest[:2]}/{hexdigest}{suffix}"


def _copy_hashing(chunks: Iterable[bytes], out: tempfile.SpooledTemporaryFile[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest()
