"""The ``result.write_back`` job: send a stored result to Kombo (``PUT /assessment/orders/{id}/result``).

Only the order's latest result is written (an older one is marked superseded and writes nothing). What a
failure becomes (retry with backoff, retry at Kombo's time, park, or dead) is ``jobs/retry_policy.py``'s
decision; a dead write-back marks the order ``needs_attention`` for an operator, who fixes the cause and
retries the job (docs/results.md).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import msgspec

from core.clock import as_datetime
from core.errors import KomboError
from core.kombo import ResultBody, convert
from core.order_status import AFTER_RESULT, OrderStatus, WriteBackState
from core.ports import KomboApi
from jobs.kinds import InBatches, JobContext, JobKind
from jobs.retry_policy import ParkJob, describe, job_failure
from orders.result_uploads import Uploads
from orders.store import Orders
from storage.database import Database, Write, marks

WRITE_BACK_KIND: Final = "result.write_back"


class WriteBack(msgspec.Struct, frozen=True):
    result_id: str


class ToWrite(msgspec.Struct, frozen=True, kw_only=True):
    """What one write-back needs, read for a batch of them at once."""

    result_id: uuid.UUID
    order_id: uuid.UUID
    #: The result as submitted, or None when a newer result for its order supersedes it (nothing to send).
    doc: dict[str, Any] | None
    integration_id: str
    kombo_order_id: str


#: Everything a batch of write-backs needs in one read: each result, whether it is still its order's newest (the
#: order of ``latest_result``), and where it goes.
_TO_WRITE: Final = (
    "SELECT r.id, r.order_id, r.body, o.integration_id, o.kombo_order_id,"
    " NOT EXISTS (SELECT 1 FROM order_result n WHERE n.order_id = r.order_id"
    "  AND (n.created_at > r.created_at OR (n.created_at = r.created_at AND n.id > r.id))) AS is_latest"
    " FROM order_result r JOIN assessment_order o ON o.id = r.order_id WHERE r.id IN ({ids})"
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
    """The ``result.write_back`` kind. The worker runs it in batches (``jobs.kinds.InBatches``): one read for a
    batch, each result's PUT on its own, and one commit for the results Kombo has taken since the last one."""

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
        self.orders = Orders(db, clock_ms=clock_ms)

    def kind(self) -> JobKind[WriteBack]:
        return JobKind(WRITE_BACK_KIND, WriteBack, batches=InBatches(self.load, self.act, self.record))

    async def load(self, payloads: Sequence[WriteBack]) -> list[ToWrite | None]:
        """The results to write, in one query; None for a result that is gone (erased): nothing to do."""
        ids = [uuid.UUID(p.result_id) for p in payloads]
        rows = await self.db.fetch(_TO_WRITE.format(ids=marks(ids)), *ids)
        found = {
            uuid.UUID(str(row["id"])): ToWrite(
                result_id=uuid.UUID(str(row["id"])),
                order_id=uuid.UUID(str(row["order_id"])),
                doc=msgspec.json.decode(row["body"]) if row["is_latest"] else None,
                integration_id=row["integration_id"],
                kombo_order_id=row["kombo_order_id"],
            )
            for row in rows
        }
        return [found.get(result_id) for result_id in ids]

    async def act(self, state: ToWrite, ctx: JobContext) -> list[str] | None:
        """Send the result to Kombo; its warnings (None: superseded, nothing sent). A failure is recorded on the
        order's timeline and raised as the retry policy's decision; a dead one marks the order for an operator."""
        if state.doc is None:
            return None
        body = convert(await self._resolve_attachments(state.doc), ResultBody, what="result")
        try:
            warnings = await self.kombo.put_result(state.integration_id, state.kombo_order_id, body)
        except KomboError as exc:
            failure = job_failure(exc, now_ms=self.clock_ms())
            detail = {
                "result_id": str(state.result_id),
                "error": describe(exc),
                "code": exc.code,
                "log_url": exc.log_url,
                "attempt": ctx.attempt,
            }
            await self.orders.add_timeline(state.order_id, "write_back.failed", detail)
            if (not failure.retryable or ctx.last_attempt) and not isinstance(failure, ParkJob):
                # Dead: the order needs an operator, who fixes the cause and retries the job.
                await self.db.fetch_each(
                    [
                        self._mark([state.result_id], WriteBackState.FAILED),
                        self._set_state([state.order_id], OrderStatus.NEEDS_ATTENTION),
                    ]
                )
            raise failure from None
        return [w.message for w in warnings]

    def record(self, done: Sequence[tuple[ToWrite, list[str] | None]]) -> list[Write]:
        """The writes that record results written (their orders move on) or superseded, with timeline entries:
        a statement for each of those rather than for each result, made with the jobs' completion."""
        superseded = [state for state, _ in done if state.doc is None]
        written = [(state, warnings) for state, warnings in done if state.doc is not None]
        writes = [
            self._mark(ids, state)
            for ids, state in (
                ([s.result_id for s in superseded], WriteBackState.SUPERSEDED),
                ([s.result_id for s, _ in written], WriteBackState.WRITTEN),
            )
            if ids
        ]
        after: dict[str, list[uuid.UUID]] = {}
        for state, _ in written:
            assert state.doc is not None  # written ones have their result
            after.setdefault(AFTER_RESULT[str(state.doc["status"])], []).append(state.order_id)
        writes += [self._set_state(order_ids, order_state) for order_state, order_ids in after.items()]
        entries = [(s.order_id, "result.superseded", {"result_id": str(s.result_id)}) for s in superseded] + [
            (s.order_id, "written_back", {"result_id": str(s.result_id), "warnings": warnings or []})
            for s, warnings in written
        ]
        if entries:
            writes.append(self.orders.timelines_write(entries))
        return writes

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

    # Rows are updated in id order, so two batches touching the same rows lock them in the same order (no deadlock).
    def _mark(self, result_ids: Sequence[uuid.UUID], state: WriteBackState) -> Write:
        result_ids = sorted(result_ids)
        return f"UPDATE order_result SET write_back = {{}} WHERE id IN ({marks(result_ids)})", [state, *result_ids]

    def _set_state(self, order_ids: Sequence[uuid.UUID], state: str) -> Write:
        order_ids = sorted(order_ids)
        sql = f"UPDATE assessment_order SET state = {{}}, updated_at = {{}} WHERE id IN ({marks(order_ids)})"
        return sql, [state, as_datetime(self.clock_ms()), *order_ids]
