"""Result attachments uploaded ahead of a result: stored per tenant, served through signed, expiring URLs,
and deleted ``ASSESSGATE_ATTACHMENT_RETENTION_DAYS`` after their upload once no result still waiting for its
write-back names them (hourly job ``result_uploads.purge``): Kombo has fetched them by then, and an upload no
result ever named is kept no longer.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
import structlog

from core import signed_urls
from core.clock import as_datetime
from jobs.kinds import JobContext, JobKind, PeriodicJob, hourly
from storage.database import Database

log = structlog.get_logger()
PURGE_UPLOADS_KIND: Final = "result_uploads.purge"
#: Raw bytes per stored chunk: what an upload or a download holds in memory at a time.
CHUNK_BYTES: Final = 256 * 1024


class Upload(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size: int


class PurgeUploads(msgspec.Struct, frozen=True):
    """Empty: the retention comes from the settings."""


class _Attachments(msgspec.Struct):
    attachments: list[dict[str, Any]] = []


class Uploads:
    def __init__(
        self,
        db: Database,
        *,
        secret_key: str,
        base_url: str,
        url_ttl_s: int,
        clock_ms: Callable[[], int],
        retention_days: int = 30,
    ) -> None:
        self.db = db
        self.secret_key = secret_key
        self.base_url = base_url
        self.url_ttl_s = url_ttl_s
        self.clock_ms = clock_ms
        self.retention = timedelta(days=retention_days)

    def kinds(self) -> tuple[JobKind[PurgeUploads], PeriodicJob]:
        return hourly(PURGE_UPLOADS_KIND, PurgeUploads, self._run_purge)

    async def _run_purge(self, payload: PurgeUploads, ctx: JobContext) -> None:
        del payload, ctx
        deleted = await self.purge()
        if deleted:
            log.info("result_uploads_purged", uploads=deleted)

    async def purge(self, *, batch: int = 500) -> int:
        """Delete uploads older than the retention that no result still to be written back names; returns how many.

        Walks the old uploads in (created_at, id) order, so the ones kept for a waiting result are passed over
        once rather than read again each batch.
        """
        cutoff = as_datetime(self.clock_ms()) - self.retention
        deleted = 0
        after: tuple[datetime, Any] | None = None
        while True:
            keyset = "" if after is None else " AND (created_at > {} OR (created_at = {} AND id > {}))"
            rows = await self.db.fetch(
                f"SELECT id, created_at FROM result_upload WHERE created_at < {{}}{keyset} ORDER BY created_at, id"
                " LIMIT {}",
                cutoff,
                *(() if after is None else (after[0], after[0], after[1])),
                batch,
            )
            async with self.db.tx():  # in the deleting transaction, so a result submitted meanwhile counts
                still_needed = await self._named_by_waiting_results()
                doomed = [row["id"] for row in rows if uuid.UUID(str(row["id"])) not in still_needed]
                if doomed:
                    placeholders = ", ".join("{}" for _ in doomed)
                    await self.db.fetch(f"DELETE FROM result_upload WHERE id IN ({placeholders})", *doomed)
                    await self.db.fetch(f"DELETE FROM result_upload_chunk WHERE upload_id IN ({placeholders})", *doomed)
            deleted += len(doomed)
            if len(rows) < batch:
                if deleted:
                    await self.db.scrub()  # no deleted file left behind in SQLite's write-ahead log
                return deleted
            after = (rows[-1]["created_at"], rows[-1]["id"])

    async def _named_by_waiting_results(self) -> set[uuid.UUID]:
        """Uploads named by a result not written back yet (queued, or failed and waiting for an operator's retry);
        those results are few: they are the write-backs in flight."""
        rows = await self.db.fetch("SELECT body FROM order_result WHERE write_back <> 'written'")
        named: set[uuid.UUID] = set()
        for row in rows:
            for item in msgspec.json.decode(row["body"], type=_Attachments).attachments:
                try:
                    named.add(uuid.UUID(str(item["upload_id"])))
                except (KeyError, ValueError):
                    continue
        return named

    async def receive(self, tenant_id: uuid.UUID, name: str, content_type: str, body: AsyncIterable[bytes]) -> Upload:
        """Store a file as it arrives, :data:`CHUNK_BYTES` at a time (each chunk its own short write, so a slow
        client never holds the database); the upload exists once its last chunk is in. If ``body`` fails (the
        client left, or the body guard refused it past ``ASSESSGATE_MAX_UPLOAD_BYTES``: ``api/body_guard.py``),
        what was written is deleted."""
        upload_id, size, seq, pending = uuid.uuid4(), 0, 0, bytearray()
        try:
            async for piece in body:
                size += len(piece)
                pending += piece
                while len(pending) >= CHUNK_BYTES:
                    await self._put_chunk(upload_id, seq, bytes(pending[:CHUNK_BYTES]))
                    del pending[:CHUNK_BYTES]
                    seq += 1
            if pending or seq == 0:
                await self._put_chunk(upload_id, seq, bytes(pending))
            upload = Upload(id=upload_id, name=name, content_type=content_type, size=size)
            async with self.db.tx():
                await self.db.fetch(
                    "INSERT INTO result_upload (id, tenant_id, name, content_type, data, size, created_at)"
                    " VALUES ({}, {}, {}, {}, '', {}, {})",
                    upload.id,
                    tenant_id,
                    name,
                    content_type,
                    size,
                    as_datetime(self.clock_ms()),
                )
        except BaseException:
            async with self.db.tx():
                await self.db.fetch("DELETE FROM result_upload_chunk WHERE upload_id = {}", upload_id)
            raise
        return upload

    async def upload(self, tenant_id: uuid.UUID, name: str, content_type: str, data: bytes) -> Upload:
        """Store a file already in memory (adapters, tests): :meth:`receive` with the file as its one piece."""

        async def whole() -> AsyncIterator[bytes]:
            yield data

        return await self.receive(tenant_id, name, content_type, whole())

    async def _put_chunk(self, upload_id: uuid.UUID, seq: int, data: bytes) -> None:
        async with self.db.tx():
            await self.db.fetch(
                "INSERT INTO result_upload_chunk (upload_id, seq, data) VALUES ({}, {}, {})",
                upload_id,
                seq,
                base64.b64encode(data).decode(),
            )

    async def content(self, upload_id: uuid.UUID) -> AsyncIterator[bytes]:
        """The file's bytes, a chunk at a time (a file uploaded before chunks were kept comes whole)."""
        rows = await self.db.fetch("SELECT data FROM result_upload WHERE id = {}", upload_id)
        if rows and rows[0]["data"]:
            yield base64.b64decode(rows[0]["data"])
            return
        seq = 0
        while chunk := await self.db.fetch(
            "SELECT data FROM result_upload_chunk WHERE upload_id = {} AND seq = {}", upload_id, seq
        ):
            yield base64.b64decode(chunk[0]["data"])
            seq += 1

    async def read(self, upload_id: uuid.UUID) -> bytes:
        """The whole file (a write-back that sends attachments inline needs it so)."""
        return b"".join([piece async for piece in self.content(upload_id)])

    async def download(self, upload_id: uuid.UUID, expires: int, signature: str) -> Upload | None:
        """The upload behind a signed URL (its bytes: :meth:`content`), or None when forged or expired."""
        if not signed_urls.valid(self.secret_key, str(upload_id), expires, signature, now_s=self.clock_ms() / 1000):
            return None
        rows = await self.db.fetch("SELECT id, name, content_type, size FROM result_upload WHERE id = {}", upload_id)
        if not rows:
            return None
        row = rows[0]
        return Upload(
            id=uuid.UUID(str(row["id"])), name=row["name"], content_type=row["content_type"], size=int(row["size"])
        )

    def signed_url(self, upload_id: uuid.UUID) -> str:
        expires = self.clock_ms() // 1000 + self.url_ttl_s
        signature = signed_urls.sign(self.secret_key, str(upload_id), expires)
        return f"{self.base_url}/files/{upload_id}?expires={expires}&signature={signature}"
