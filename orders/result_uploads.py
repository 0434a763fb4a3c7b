"""Result attachments uploaded ahead of a result: stored per tenant, served through signed, expiring URLs,
and deleted ``ASSESSGATE_ATTACHMENT_RETENTION_DAYS`` after their upload once no result still waiting for its
write-back names them (hourly job ``result_uploads.purge``): Kombo has fetched them by then, and an upload no
result ever named is kept no longer.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
import structlog

from core import signed_urls
from core.clock import as_datetime
from jobs.kinds import JobContext, JobKind, PeriodicJob
from storage.database import Database

log = structlog.get_logger()
PURGE_UPLOADS_KIND: Final = "result_uploads.purge"


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
        return (
            JobKind(PURGE_UPLOADS_KIND, PurgeUploads, self._run_purge),
            PeriodicJob(kind=PURGE_UPLOADS_KIND, every_ms=3_600_000, payload=PurgeUploads()),
        )

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
            deleted += len(doomed)
            if len(rows) < batch:
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

    async def upload(self, tenant_id: uuid.UUID, name: str, content_type: str, data: bytes) -> Upload:
        upload = Upload(id=uuid.uuid4(), name=name, content_type=content_type, size=len(data))
        async with self.db.tx():
            await self.db.fetch(
                "INSERT INTO result_upload (id, tenant_id, name, content_type, data, size, created_at)"
                " VALUES ({}, {}, {}, {}, {}, {}, {})",
                upload.id,
                tenant_id,
                name,
                content_type,
                base64.b64encode(data).decode(),
                len(data),
                datetime.fromtimestamp(self.clock_ms() / 1000, UTC),
            )
        return upload

    async def download(self, upload_id: uuid.UUID, expires: int, signature: str) -> tuple[Upload, bytes] | None:
        """The file behind a signed URL, or None when the URL is forged or expired."""
        if not signed_urls.valid(self.secret_key, str(upload_id), expires, signature, now_s=self.clock_ms() / 1000):
            return None
        rows = await self.db.fetch(
            "SELECT id, name, content_type, size, data FROM result_upload WHERE id = {}", upload_id
        )
        if not rows:
            return None
        row = rows[0]
        upload = Upload(
            id=uuid.UUID(str(row["id"])), name=row["name"], content_type=row["content_type"], size=int(row["size"])
        )
        return upload, base64.b64decode(row["data"])

    def signed_url(self, upload_id: uuid.UUID) -> str:
        expires = self.clock_ms() // 1000 + self.url_ttl_s
        signature = signed_urls.sign(self.secret_key, str(upload_id), expires)
        return f"{self.base_url}/files/{upload_id}?expires={expires}&signature={signature}"
