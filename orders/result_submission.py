"""Result submissions: the vendor's platform (or an adapter) submits a result, we validate and store it.

A submission is validated against every rule and against the order's state, stored with a timeline entry
and its write-back job (``orders/write_back.py``) in one transaction, and answered 202. The same submission
twice is one result. A newer result for the same order supersedes a queued older one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from core.clock import as_datetime
from core.errors import Conflict, FieldError, NotFound, ValidationFailed
from core.kombo import ResultStatus
from core.kombo.result_body import FINAL_RESULT_STATUSES
from core.order_status import AFTER_RESULT, OrderStatus, WriteBackState
from core.result_bounds import ResultLimits
from core.result_rules import validate_submission
from jobs.outbox import Outbox
from orders.store import OrderRecord, Orders
from orders.write_back import WRITE_BACK_KIND, WriteBack, latest_result
from storage.database import Database


class Submitted(msgspec.Struct, kw_only=True):
    result_id: uuid.UUID
    status: ResultStatus
    write_back: WriteBackState
    repeated: bool


def canonical(doc: dict[str, Any]) -> bytes:
    return msgspec.json.encode(doc, order="sorted")


class Results:
    def __init__(self, db: Database, limits: ResultLimits, clock_ms: Callable[[], int]) -> None:
        self.db = db
        self.limits = limits
        self.clock_ms = clock_ms
        self.orders = Orders(db)
        self.outbox = Outbox(db)

    async def submit(self, tenant_id: uuid.UUID, order_id: uuid.UUID, doc: Any) -> Submitted:
        order = await self.orders.get(order_id, tenant_id=tenant_id)
        if order is None:
            raise NotFound(f"no order {order_id}")
        return await self.submit_for(order, doc)

    async def submit_for(self, order: OrderRecord, doc: Any) -> Submitted:
        """:meth:`submit` for an order the caller has just read (the results API resolved it already)."""
        errors = validate_submission(doc, self.limits)
        if errors:
            raise ValidationFailed(errors)
        if order.state in {OrderStatus.REJECTED, OrderStatus.UNROUTED} or order.tenant_id is None:
            raise Conflict(f"the order is {order.state}; it cannot take a result")
        tenant_id, order_id = order.tenant_id, order.id
        await self._check_uploads(tenant_id, doc)
        body = canonical(doc)
        digest = hashlib.sha256(body).hexdigest()
        async with self.db.tx():
            latest = await latest_result(self.db, order_id)
            if latest is not None and latest["body_hash"] == digest:
                return Submitted(
                    result_id=uuid.UUID(str(latest["id"])),
                    status=ResultStatus(str(latest["status"])),
                    write_back=WriteBackState(str(latest["write_back"])),
                    repeated=True,
                )
            if latest is not None and latest["status"] in FINAL_RESULT_STATUSES and doc["status"] != latest["status"]:
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
                as_datetime(self.clock_ms()),
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
                trace_parent=order.trace_parent,  # the write-back joins the order's trace, not this request's
            )
        return Submitted(
            result_id=result_id, status=ResultStatus(doc["status"]), write_back=WriteBackState.QUEUED, repeated=False
        )

    async def order_state(self, order_id: uuid.UUID, stored: str) -> str:
        """The order's state counting results submitted but not yet written back: a final result closes it."""
        latest = await latest_result(self.db, order_id) if stored == OrderStatus.ACCEPTED else None
        return AFTER_RESULT[str(latest["status"])] if latest is not None else stored

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
