"""Result submissions: the vendor's platform (or an adapter) submits a result, we validate and store it.

A submission is validated against every rule and against the order's state, stored with a timeline entry
and its write-back job (``orders/write_back.py``) in one transaction, and answered 202. The same submission
twice is one result. A newer result for the same order supersedes a queued older one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgspec

from core.clock import as_datetime
from core.errors import Conflict, FieldError, NotFound, ValidationFailed
from core.kombo import ResultStatus
from core.kombo.result_body import FINAL_RESULT_STATUSES
from core.order_status import AFTER_RESULT, OrderStatus, WriteBackState
from core.result_bounds import ResultLimits
from core.result_rules import validate_submission
from jobs.outbox import NewJob, Outbox
from orders.store import OrderRecord, Orders
from orders.write_back import WRITE_BACK_KIND, WriteBack, latest_result
from storage.database import Database, marks

_RESULT_COLUMNS: Final = "id, order_id, tenant_id, body, body_hash, status, write_back, created_at"
_RESULT_VALUES: Final = "{}, {}, {}, {}, {}, {}, 'queued', {}"


class _NewResult(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    order: OrderRecord
    doc: dict[str, Any]
    body: str
    digest: str
    created_at: datetime

    @property
    def row(self) -> list[Any]:
        """The values of ``_RESULT_VALUES``."""
        order = self.order
        return [self.id, order.id, order.tenant_id, self.body, self.digest, self.doc["status"], self.created_at]

    @property
    def timeline_detail(self) -> dict[str, Any]:
        return {"result_id": str(self.id), "status": self.doc["status"]}


def _keeps_out(latest: dict[str, Any], new: _NewResult) -> bool:
    """Whether the order's latest result keeps a new one from being stored: it is the same (the submission is
    repeated), or it is final and the new one would change its status. ``_store_at_once`` says this in SQL."""
    same = latest["body_hash"] == new.digest
    return same or (latest["status"] in FINAL_RESULT_STATUSES and new.doc["status"] != latest["status"])


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
        await self._check_uploads(order.tenant_id, doc)
        body = canonical(doc)
        digest = hashlib.sha256(body).hexdigest()
        created_at = as_datetime(self.clock_ms())
        new = _NewResult(
            id=uuid.uuid4(), order=order, doc=doc, body=body.decode(), digest=digest, created_at=created_at
        )
        stored, latest = await (self._store_in_tx(new) if self.db.is_sqlite else self._store_at_once(new))
        if stored:
            return Submitted(
                result_id=new.id, status=ResultStatus(doc["status"]), write_back=WriteBackState.QUEUED, repeated=False
            )
        assert latest is not None  # only a latest result keeps a new one out
        if latest["body_hash"] == digest:
            return Submitted(
                result_id=uuid.UUID(str(latest["id"])),
                status=ResultStatus(str(latest["status"])),
                write_back=WriteBackState(str(latest["write_back"])),
                repeated=True,
            )
        message = f"the order's result is final ({latest['status']}); it cannot become {doc['status']}"
        raise ValidationFailed([FieldError(path="$.status", message=message)])

    async def _store_in_tx(self, new: _NewResult) -> tuple[bool, dict[str, Any] | None]:
        """Store the result, its timeline entry and its write-back job in one transaction, unless the order's
        latest result keeps it out (see :func:`_keeps_out`); returns whether it was stored, and that latest."""
        async with self.db.tx():
            latest = await latest_result(self.db, new.order.id)
            if latest is not None and _keeps_out(latest, new):
                return False, latest
            result = (f"INSERT INTO order_result ({_RESULT_COLUMNS}) VALUES ({_RESULT_VALUES})", list(new.row))
            noted = self.orders.timelines_write([(new.order.id, "result.submitted", new.timeline_detail)])
            await self.outbox.add(self._job(new), after=[result, noted])
        return True, latest

    async def _store_at_once(self, new: _NewResult) -> tuple[bool, dict[str, Any] | None]:
        """:meth:`_store_in_tx` as one statement on PostgreSQL (one round trip instead of six): the latest result
        is read, and the new one, its timeline entry and its job are inserted only if it does not keep them out."""
        job_sql, job_args = self.outbox.insert_statement(self._job(new), for_each_row_of="fresh")
        noted_sql, noted_args = self.orders.timeline_statement(
            new.order.id, "result.submitted", new.timeline_detail, for_each_row_of="fresh"
        )
        rows = await self.db.fetch(
            "WITH latest AS (SELECT id, body_hash, status, write_back FROM order_result WHERE order_id = {}"
            "  ORDER BY created_at DESC, id DESC LIMIT 1),"
            f" fresh AS (INSERT INTO order_result ({_RESULT_COLUMNS}) SELECT {_RESULT_VALUES}"
            "  WHERE NOT EXISTS (SELECT 1 FROM latest WHERE body_hash = {}"
            f"   OR (status IN ({marks(FINAL_RESULT_STATUSES)}) AND status <> {{}})) RETURNING id),"
            f" noted AS ({noted_sql}),"
            f" queued AS ({job_sql})"
            " SELECT (SELECT COUNT(*) FROM fresh) AS stored, latest.* FROM (SELECT 1) AS one LEFT JOIN latest ON true",
            new.order.id,
            *new.row,
            new.digest,
            *sorted(FINAL_RESULT_STATUSES),
            new.doc["status"],
            *noted_args,
            *job_args,
        )
        [row] = rows
        return bool(row["stored"]), (None if row["id"] is None else row)

    def _job(self, new: _NewResult) -> NewJob:
        """The write-back job of a new result."""
        return NewJob(
            kind=WRITE_BACK_KIND,
            payload=WriteBack(result_id=str(new.id)),
            now_ms=self.clock_ms(),
            tenant_id=new.order.tenant_id,
            dedupe_key=f"{WRITE_BACK_KIND}:{new.id}",
            trace_parent=new.order.trace_parent,  # the write-back joins the order's trace, not this request's
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
