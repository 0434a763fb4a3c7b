"""The ``result.write_back`` job: send a stored result to Kombo (``PUT /assessment/orders/{id}/result``).

Only the order's latest result is written (an older one is marked superseded and writes nothing). What a
failure becomes (retry with backoff, retry at Kombo's time, park, or dead) is ``jobs/retry_policy.py``'s
decision; a dead write-back marks the order ``needs_attention`` for an operator, who fixes the cause and
retries the job (docs/results.md).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any, Final, Literal

import msgspec

from core.clock import as_datetime
from core.errors import KomboError
from core.kombo import ResultBody, convert
from core.order_status import AFTER_RESULT, OrderStatus, WriteBackState
from core.ports import KomboApi
from jobs.kinds import JobContext, JobKind
from jobs.retry_policy import ParkJob, describe, job_failure
from orders.result_uploads import Uploads
from orders.store import Orders
from storage.database import Database

WRITE_BACK_KIND: Final = "result.write_back"


class WriteBack(msgspec.Struct, frozen=True):
    result_id: str


#: Everything a write-back needs in one read: the result, whether it is still its order's newest (the order of
#: ``latest_result``), and where it goes.
_TO_WRITE: Final = (
    "SELECT r.order_id, r.body, o.integration_id, o.kombo_order_id,"
    " NOT EXISTS (SELECT 1 FROM order_result n WHERE n.order_id = r.order_id"
    "  AND (n.created_at > r.created_at OR (n.created_at = r.created_at AND n.id > r.id))) AS is_latest"
    " FROM order_result r JOIN assessment_order o ON o.id = r.order_id WHERE r.id = {}"
)


async def latest_result(db: Database, order_id: uuid.UUID) -> dict[str, Any] | None:
    """The order's newest result row (id, body_hash, status, write_back), if it has one."""
    rows = await db.fetch(
        "SELECT id, body_hash, status, write_back FROM order_result WHERE order_id = {}"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        order_id,
    )
    return rows[0] if rows else None


class WriteBacks:
    def __init__(
        self,
        db: Database,
        *,
        kombo: KomboApi,
        uploads: Uploads,
        attachments: Literal["signed_url", "base64"],
        clock_ms: Callable[[], int],
    ) -> None:
        self.db = db
        self.kombo = kombo
        self.uploads = uploads
        self.attachments = attachments
        self.clock_ms = clock_ms
        self.orders = Orders(db)

    def kind(self) -> JobKind[WriteBack]:
        return JobKind(WRITE_BACK_KIND, WriteBack, self.run)

    async def run(self, payload: WriteBack, ctx: JobContext) -> None:
        await self.write_back(uuid.UUID(payload.result_id), ctx)

    async def write_back(self, result_id: uuid.UUID, ctx: JobContext) -> None:
        rows = await self.db.fetch(_TO_WRITE, result_id)
        if not rows:
            return
        order_id = uuid.UUID(str(rows[0]["order_id"]))
        if not rows[0]["is_latest"]:
            async with self.db.tx():
                await self._mark(result_id, WriteBackState.SUPERSEDED)
                await self.orders.add_timeline(order_id, "result.superseded", {"result_id": str(result_id)})
                await ctx.complete_in_tx()
            return
        doc = msgspec.json.decode(rows[0]["body"])
        body = convert(await self._resolve_attachments(doc), ResultBody, what="result")
        try:
            warnings = await self.kombo.put_result(rows[0]["integration_id"], rows[0]["kombo_order_id"], body)
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
                    await self._mark(result_id, WriteBackState.FAILED)
                    await self.db.fetch(
                        "UPDATE assessment_order SET state = {}, updated_at = {} WHERE id = {}",
                        OrderStatus.NEEDS_ATTENTION,
                        as_datetime(self.clock_ms()),
                        order_id,
                    )
            raise failure from None
        async with self.db.tx():
            await self._mark(result_id, WriteBackState.WRITTEN)
            await self.db.fetch(
                "UPDATE assessment_order SET state = {}, updated_at = {} WHERE id = {}",
                AFTER_RESULT[str(doc["status"])],
                as_datetime(self.clock_ms()),
                order_id,
            )
            await self.orders.add_timeline(
                order_id, "written_back", {"result_id": str(result_id), "warnings": [w.message for w in warnings]}
            )
            await ctx.complete_in_tx()  # the job is done in the same commit as the result it wrote

    async def _resolve_attachments(self, doc: dict[str, Any]) -> dict[str, Any]:
        attachments = []
        for item in doc.get("attachments", []):
            if "upload_id" not in item:
                attachments.append(item)
                continue
            upload_id = uuid.UUID(item["upload_id"])
            rows = await self.db.fetch("SELECT content_type FROM result_upload WHERE id = {}", upload_id)
            resolved = {"name": item["name"], "content_type": item.get("content_type") or rows[0]["content_type"]}
            if self.attachments == "base64":
                resolved["data"] = base64.b64encode(await self.uploads.read(upload_id)).decode()
            else:
                resolved["data_url"] = self.uploads.signed_url(upload_id)
            attachments.append(resolved)
        return {**doc, "attachments": attachments} if "attachments" in doc else doc

    async def _mark(self, result_id: uuid.UUID, state: WriteBackState) -> None:
        await self.db.fetch("UPDATE order_result SET write_back = {} WHERE id = {}", state, result_id)
