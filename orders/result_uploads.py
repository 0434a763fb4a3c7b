"""Result attachments uploaded ahead of a result: stored per tenant, served through signed, expiring URLs."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from core import signed_urls
from storage.database import Database


class Upload(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size: int


class Uploads:
    def __init__(
        self, db: Database, *, secret_key: str, base_url: str, url_ttl_s: int, clock_ms: Callable[[], int]
    ) -> None:
        self.db = db
        self.secret_key = secret_key
        self.base_url = base_url
        self.url_ttl_s = url_ttl_s
        self.clock_ms = clock_ms

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
