"""Results: the vendor's platform submits them, we store them, and a job writes them back to Kombo.

A submission is validated against every rule and against the order's state, stored with a timeline entry
and its write-back job in one transaction, and answered 202. The same submission twice is one result.
A newer result for the same order supersedes a queued older one: the older job finds it is no longer the
latest and writes nothing, so an old result never lands over a new one.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
import structlog

from core import signed_urls
from core.errors import Conflict, FieldError, KomboError, NotFound, ValidationFailed
from core.kombo import ResultBody, convert
from core.order_status import AFTER_RESULT, OrderStatus
from core.ports import KomboApi
from core.result_rules import FINAL, validate_submission
from core.settings import Settings
from jobs.kinds import JobContext, JobKind
from jobs.lifecycle import ParkJob
from jobs.outbox import Outbox
from jobs.retry_policy import describe, job_failure
from orders.store import Orders
from storage.database import Database

log = structlog.get_logger()
WRITE_BACK_KIND: Final = "result.write_back"


class WriteBack(msgspec.Struct, frozen=True):
    result_id: str


class Submitted(msgspec.Struct, kw_only=True):
    result_id: uuid.UUID
    status: str
    write_back: str  # queued | written | superseded | failed
    repeated: bool


class Upload(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    content_type: str
    size: int


def canonical(doc: dict[str, Any]) -> bytes:
    return msgspec.json.encode(doc, order="sorted")


class Results:
    def __init__(self, db: Database, settings: Settings, clock_ms: Callable[[], int]) -> None:
        self.db = db
        self.settings = settings
        self.clock_ms = clock_ms
        self.orders = Orders(db)
        self.outbox = Outbox(db)

    async def submit(self, tenant_id: uuid.UUID, order_id: uuid.UUID, doc: Any) -> Submitted:
        errors = validate_submission(doc, self.settings.results)
        if errors:
            raise ValidationFailed(errors)
        order = await self.orders.get(order_id, tenant_id=tenant_id)
        if order is None:
            raise NotFound(f"no order {order_id}")
        if order.state in {OrderStatus.REJECTED, OrderStatus.UNROUTED}:
            raise Conflict(f"the order is {order.state}; it cannot take a result")
        await self._check_uploads(tenant_id, doc)
        body = canonical(doc)
        digest = hashlib.sha256(body).hexdigest()
        async with self.db.tx():
            latest = await self._latest(order_id)
            if latest is not None and latest["body_hash"] == digest:
                return Submitted(
                    result_id=uuid.UUID(str(latest["id"])),
                    status=str(latest["status"]),
                    write_back=str(latest["write_back"]),
                    repeated=True,
                )
            if latest is not None and latest["status"] in FINAL and doc["status"] != latest["status"]:
                message = f"the order's result is final ({latest['status']}); it cannot become {doc['status']}"
                raise ValidationFailed([FieldError(path="$.status", message=message)])
            result_id = uuid.uuid4()
            await self.db.fetch(
                "INSERT INTO order_result (id, order_id, tenant_id, body, body_hash, status, write_back, created_at)"
                " VALUES ({}, {}, {}, {}, {}, {}, 'queued', {})",
                result_id,
                order_id,
                tenant_id,
                body.decode(),
                digest,
                doc["status"],
                datetime.now(UTC),
            )
            await self.orders.add_timeline(
                order_id, "result.submitted", {"result_id": str(result_id), "status": doc["status"]}
            )
            await self.outbox.enqueue(
                WRITE_BACK_KIND,
                WriteBack(result_id=str(result_id)),
                now_ms=self.clock_ms(),
                tenant_id=tenant_id,
                dedupe_key=f"{WRITE_BACK_KIND}:{result_id}",
            )
        return Submitted(result_id=result_id, status=doc["status"], write_back="queued", repeated=False)

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
                datetime.now(UTC),
            )
        return upload

    async def download(self, upload_id: uuid.UUID, expires: int, signature: str) -> tuple[Upload, bytes] | None:
        """The file behind a signed URL, or None when the URL is forged or expired."""
        secret = self.settings.secret_keys[0]
        if not signed_urls.valid(secret, str(upload_id), expires, signature, now_s=time.time()):
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
        expires = int(time.time()) + self.settings.attachment_url_ttl_s
        signature = signed_urls.sign(self.settings.secret_keys[0], str(upload_id), expires)
        return f"{self.settings.base_url}/files/{upload_id}?expires={expires}&signature={signature}"

    def kind(self, kombo: KomboApi) -> JobKind[WriteBack]:
        async def write_back(payload: WriteBack, ctx: JobContext) -> None:
            await self.write_back(kombo, uuid.UUID(payload.result_id), ctx)

        return JobKind(WRITE_BACK_KIND, WriteBack, write_back)

    async def write_back(self, kombo: KomboApi, result_id: uuid.UUID, ctx: JobContext) -> None:
        rows = await self.db.fetch("SELECT order_id, body FROM order_result WHERE id = {}", result_id)
        if not rows:
            return
        order_id = uuid.UUID(str(rows[0]["order_id"]))
        latest = await self._latest(order_id)
        if latest is None or uuid.UUID(str(latest["id"])) != result_id:
            await self._mark(result_id, "superseded")
            await self.orders.add_timeline(order_id, "result.superseded", {"result_id": str(result_id)})
            return
        order = await self.orders.get(order_id, tenant_id=None)
        assert order is not None
        doc = msgspec.json.decode(rows[0]["body"])
        body = convert(await self._resolve_attachments(doc), ResultBody, what="result")
        try:
            warnings = await kombo.put_result(order.integration_id, order.kombo_order_id, body)
        except KomboError as exc:
            failure = job_failure(exc, now_ms=self.clock_ms())
            detail = {
                "result_id": str(result_id),
                "error": describe(exc),
                "code": exc.code,
                "log_url": exc.log_url,
                "attempt": ctx.attempt,
            }
            await self.orders.add_timeline(order_id, "write_back.failed", detail)
            if (not failure.retryable or ctx.last_attempt) and not isinstance(failure, ParkJob):
                # Dead: the order needs an operator, who fixes the cause and retries the job.
                async with self.db.tx():
                    await self._mark(result_id, "failed")
                    await self.db.fetch(
                        "UPDATE assessment_order SET state = {}, updated_at = {} WHERE id = {}",
                        OrderStatus.NEEDS_ATTENTION,
                        datetime.now(UTC),
                        order_id,
                    )
            raise failure from None
        async with self.db.tx():
            await self._mark(result_id, "written")
            await self.db.fetch(
                "UPDATE assessment_order SET state = {}, updated_at = {} WHERE id = {}",
                AFTER_RESULT[str(doc["status"])],
                datetime.now(UTC),
                order_id,
            )
            await self.orders.add_timeline(
                order_id, "written_back", {"result_id": str(result_id), "warnings": [w.message for w in warnings]}
            )

    async def _resolve_attachments(self, doc: dict[str, Any]) -> dict[str, Any]:
        attachments = []
        for item in doc.get("attachments", []):
            if "upload_id" not in item:
                attachments.append(item)
                continue
            upload_id = uuid.UUID(item["upload_id"])
            rows = await self.db.fetch("SELECT content_type, data FROM result_upload WHERE id = {}", upload_id)
            resolved = {"name": item["name"], "content_type": item.get("content_type") or rows[0]["content_type"]}
            if self.settings.attachments == "base64":
                resolved["data"] = rows[0]["data"]
            else:
                resolved["data_url"] = self.signed_url(upload_id)
            attachments.append(resolved)
        return {**doc, "attachments": attachments} if "attachments" in doc else doc

    async def _check_uploads(self, tenant_id: uuid.UUID, doc: dict[str, Any]) -> None:
        errors = []
        for index, item in enumerate(doc.get("attachments", [])):
            if "upload_id" not in item:
                continue
            try:
                upload_id = uuid.UUID(item["upload_id"])
            except ValueError:
                upload_id = None
            rows = (
                []
                if upload_id is None
                else await self.db.fetch(
                    "SELECT id FROM result_upload WHERE id = {} AND tenant_id = {}", upload_id, tenant_id
                )
            )
            if not rows:
                errors.append(FieldError(path=f"$.attachments[{index}].upload_id", message="no such upload"))
        if errors:
            raise ValidationFailed(errors)

    async def order_state(self, order_id: uuid.UUID, stored: str) -> str:
        """The order's state counting results submitted but not yet written back: a final result closes it."""
        latest = await self._latest(order_id) if stored == OrderStatus.ACCEPTED else None
        return AFTER_RESULT[str(latest["status"])] if latest is not None else stored

    async def _latest(self, order_id: uuid.UUID) -> dict[str, Any] | None:
        rows = await self.db.fetch(
            "SELECT id, body_hash, status, write_back FROM order_result WHERE order_id = {}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            order_id,
        )
        return rows[0] if rows else None

    async def _mark(self, result_id: uuid.UUID, state: str) -> None:
        await self.db.fetch("UPDATE order_result SET write_back = {} WHERE id = {}", state, result_id)
