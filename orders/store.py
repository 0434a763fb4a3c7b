"""Orders: storage (tenant-scoped), their timeline, and the read queries of the order API."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import msgspec

from core.clock import Clock, stamp, wall_clock_ms
from core.errors import NotFound
from core.order_status import OPEN_STATUSES
from storage.database import Database, Write

_COLUMNS: Final = (
    "id, kombo_order_id, tenant_id, integration_id, package_id, package_type, inline, state, adapter,"
    " rejection_message, assessment_url, source, order_json, created_at, updated_at, trace_parent"
)
_SELECT: Final = _COLUMNS + ", pii_purged_at"
_QUALIFIED: Final = ", ".join(f"o.{column.strip()}" for column in _SELECT.split(","))
#: States in which an order still waits for its result (a tenant holding one is not deleted without force).
OPEN_STATES: Final = tuple(str(s) for s in OPEN_STATUSES)


class OrderRecord(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kombo_order_id: str
    tenant_id: uuid.UUID | None
    integration_id: str
    package_id: str
    package_type: str | None
    inline: bool
    state: str  # an OrderStatus (core/order_status.py)
    adapter: str | None
    rejection_message: str | None
    assessment_url: str | None
    source: str  # webhook | reconciliation | held
    order_json: str
    created_at: datetime
    updated_at: datetime
    #: When the candidate's name, email and phone were erased after the retention period (``None``: not yet).
    pii_purged_at: datetime | None = None
    #: The W3C ``traceparent`` of the trace the order arrived in (``None`` when tracing is off).
    trace_parent: str | None = None


class TimelineEntry(msgspec.Struct, kw_only=True):
    at: datetime
    kind: str
    detail: dict[str, Any]


class ResultRecord(msgspec.Struct, kw_only=True):
    """A result the vendor's platform submitted for an order, and how far its write-back got."""

    id: uuid.UUID
    body: str
    status: str
    write_back: str
    created_at: datetime


_TIMELINE_COLUMNS: Final = "id, order_id, at, kind, detail"


class Orders:
    def __init__(self, db: Database, *, clock_ms: Clock = wall_clock_ms) -> None:
        self.db = db
        self.clock_ms = clock_ms

    async def by_kombo_id(self, kombo_order_id: str) -> OrderRecord | None:
        rows = await self.db.fetch(
            f"SELECT {_SELECT} FROM assessment_order WHERE kombo_order_id = {{}}", kombo_order_id
        )
        return msgspec.convert(rows[0], OrderRecord) if rows else None

    async def get(self, order_id: uuid.UUID, *, tenant_id: uuid.UUID | None) -> OrderRecord | None:
        """One order; with ``tenant_id`` only if it belongs to that tenant."""
        clause = "" if tenant_id is None else " AND tenant_id = {}"
        args: list[Any] = [order_id] + ([] if tenant_id is None else [tenant_id])
        rows = await self.db.fetch(f"SELECT {_SELECT} FROM assessment_order WHERE id = {{}}{clause}", *args)
        return msgspec.convert(rows[0], OrderRecord) if rows else None

    async def resolve(self, tenant_id: uuid.UUID, ref: str) -> OrderRecord:
        """The live tenant's order named by the gateway's id (a UUID) or by Kombo's order id, whichever ``ref`` is
        (the gateway's id first); a 404 names the tenant if it does not exist or was deleted, else the order.

        One round trip, the tenant's check included: the order routes take no ``tenant`` dependency of their own
        (a query each, about 0.1 ms of the gateway's CPU, the results API's hottest path)."""
        try:
            as_uuid: uuid.UUID | None = uuid.UUID(ref)
        except ValueError:
            as_uuid = None
        rows = await self.db.fetch(
            f"SELECT {_QUALIFIED}, (SELECT COUNT(*) FROM tenant WHERE id = {{}} AND deleted_at IS NULL) AS live"
            " FROM (SELECT 1 AS one) AS one LEFT JOIN assessment_order o"
            "  ON o.tenant_id = {} AND (o.id = {} OR o.kombo_order_id = {})"
            " ORDER BY CASE WHEN o.id = {} THEN 0 ELSE 1 END LIMIT 1",
            tenant_id,
            tenant_id,
            as_uuid,
            ref,
            as_uuid,
        )
        if not rows[0]["live"]:
            raise NotFound(f"no tenant {tenant_id}")
        if rows[0]["id"] is None:
            raise NotFound(f"no order {ref!r}: give the gateway's order id (a UUID) or Kombo's order id")
        return msgspec.convert(rows[0], OrderRecord)

    async def insert(self, record: OrderRecord) -> bool:
        """False when an order with this Kombo id already exists (a concurrent duplicate won)."""
        sql, args = self._insert_statement(record)
        return bool(await self.db.fetch(sql, *args))

    async def insert_at_once(
        self,
        record: OrderRecord,
        timeline: Sequence[tuple[uuid.UUID, str, dict[str, Any]]],
        job: tuple[str, list[Any]] | None,
    ) -> bool:
        """:meth:`insert`, the order's timeline entries and its job (an ``Outbox.insert_statement`` for each row of
        ``fresh``) as one statement, one round trip (PostgreSQL only: its CTEs may write). Nothing is written when
        a concurrent duplicate won; False then."""
        order_sql, args = self._insert_statement(record)
        parts = [f"fresh AS ({order_sql})"]
        for n, (order_id, kind, detail) in enumerate(timeline):
            entry_sql, entry_args = self.timeline_statement(order_id, kind, detail, for_each_row_of="fresh")
            parts.append(f"noted_{n} AS ({entry_sql})")
            args += entry_args
        if job is not None:
            parts.append(f"queued AS ({job[0]})")
            args += job[1]
        rows = await self.db.write(f"WITH {', '.join(parts)} SELECT COUNT(*) AS stored FROM fresh", *args)
        return bool(rows[0]["stored"])

    def _insert_statement(self, record: OrderRecord) -> tuple[str, list[Any]]:
        sql = (
            f"INSERT INTO assessment_order ({_COLUMNS}) VALUES ({', '.join('{}' for _ in range(16))})"
            " ON CONFLICT (kombo_order_id) DO NOTHING RETURNING id"
        )
        return sql, [
            record.id,
            record.kombo_order_id,
            record.tenant_id,
            record.integration_id,
            record.package_id,
            record.package_type,
            record.inline,
            record.state,
            record.adapter,
            record.rejection_message,
            record.assessment_url,
            record.source,
            record.order_json,
            record.created_at,
            record.updated_at,
            record.trace_parent,
        ]

    async def route(self, record: OrderRecord) -> None:
        """A held order, now routed and decided."""
        await self.db.fetch(
            "UPDATE assessment_order SET tenant_id = {}, package_type = {}, state = {}, adapter = {},"
            " rejection_message = {}, assessment_url = {}, source = {}, updated_at = {}"
            " WHERE id = {} AND state = 'unrouted'",
            record.tenant_id,
            record.package_type,
            record.state,
            record.adapter,
            record.rejection_message,
            record.assessment_url,
            record.source,
            record.updated_at,
            record.id,
        )

    async def add_timeline(self, order_id: uuid.UUID, kind: str, detail: dict[str, Any]) -> None:
        await self.add_timelines([(order_id, kind, detail)])

    async def add_timelines(self, entries: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]) -> None:
        """Timeline entries of one or more orders (order id, kind, detail), in one statement."""
        if entries:
            sql, args = self.timelines_write(entries)
            await self.db.write(sql, *args)

    def timelines_write(self, entries: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]) -> Write:
        """The INSERT of :meth:`add_timelines` (``entries`` not empty), for a caller's transaction or statement."""
        args: list[Any] = []
        for order_id, kind, detail in entries:
            args += self._entry(order_id, kind, detail)
        rows = ", ".join("({}, {}, {}, {}, {})" for _ in entries)
        return f"INSERT INTO order_timeline ({_TIMELINE_COLUMNS}) VALUES {rows}", args

    def timeline_statement(
        self, order_id: uuid.UUID, kind: str, detail: dict[str, Any], *, for_each_row_of: str
    ) -> tuple[str, list[Any]]:
        """An INSERT of one timeline entry if the caller's CTE ``for_each_row_of`` returned a row (PostgreSQL)."""
        values = "{}, {}, {}, {}, {}"
        sql = f"INSERT INTO order_timeline ({_TIMELINE_COLUMNS}) SELECT {values} FROM {for_each_row_of}"
        return sql, self._entry(order_id, kind, detail)

    def _entry(self, order_id: uuid.UUID, kind: str, detail: dict[str, Any]) -> list[Any]:
        return [uuid.uuid4(), order_id, stamp(self.clock_ms()), kind, msgspec.json.encode(detail).decode()]

    async def timeline(self, order_id: uuid.UUID) -> list[TimelineEntry]:
        rows = await self.db.fetch(
            "SELECT at, kind, detail FROM order_timeline WHERE order_id = {} ORDER BY at, id", order_id
        )
        return [TimelineEntry(at=r["at"], kind=r["kind"], detail=msgspec.json.decode(r["detail"])) for r in rows]

    async def unrouted(self, integration_id: str) -> list[OrderRecord]:
        rows = await self.db.fetch(
            f"SELECT {_SELECT} FROM assessment_order WHERE integration_id = {{}} AND state = 'unrouted'"
            " ORDER BY created_at",
            integration_id,
        )
        return [msgspec.convert(r, OrderRecord) for r in rows]

    async def all_unrouted(
        self, *, after: tuple[datetime, uuid.UUID] | None = None, limit: int = 500
    ) -> list[OrderRecord]:
        """Held orders, oldest first, after a position in (created_at, id) order."""
        clause, args = (
            ("", [])
            if after is None
            else (" AND (created_at > {} OR (created_at = {} AND id > {}))", [after[0], after[0], after[1]])
        )
        rows = await self.db.fetch(
            f"SELECT {_SELECT} FROM assessment_order WHERE state = 'unrouted'{clause}"
            " ORDER BY created_at, id LIMIT {}",
            *args,
            limit,
        )
        return [msgspec.convert(r, OrderRecord) for r in rows]

    async def known_kombo_ids(self, kombo_ids: list[str]) -> set[str]:
        if not kombo_ids:
            return set()
        placeholders = ", ".join("{}" for _ in kombo_ids)
        rows = await self.db.fetch(
            f"SELECT kombo_order_id FROM assessment_order WHERE kombo_order_id IN ({placeholders})", *kombo_ids
        )
        return {str(r["kombo_order_id"]) for r in rows}

    async def open_count(self, tenant_id: uuid.UUID) -> int:
        states = ", ".join(f"'{s}'" for s in OPEN_STATES)
        rows = await self.db.fetch(
            f"SELECT COUNT(*) AS n FROM assessment_order WHERE tenant_id = {{}} AND state IN ({states})", tenant_id
        )
        return int(rows[0]["n"])

    async def changes(
        self, tenant_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, until: datetime, limit: int
    ) -> list[OrderRecord]:
        """The tenant's orders changed after a position in (updated_at, id) order, oldest change first, up to
        ``until`` (a moment slightly in the past, so a transaction still committing is not skipped)."""
        clauses = ["tenant_id = {}", "updated_at <= {}"]
        args: list[Any] = [tenant_id, until]
        if after is not None:
            clauses.append("(updated_at > {} OR (updated_at = {} AND id > {}))")
            args += [after[0], after[0], after[1]]
        rows = await self.db.fetch(
            f"SELECT {_SELECT} FROM assessment_order WHERE {' AND '.join(clauses)} ORDER BY updated_at, id LIMIT {{}}",
            *args,
            limit,
        )
        return [msgspec.convert(r, OrderRecord) for r in rows]

    async def list_orders(
        self,
        tenant_id: uuid.UUID | None,
        *,
        state: str | None = None,
        package_id: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 100,
    ) -> list[OrderRecord]:
        """Orders newest first, narrowed (``tenant_id`` ``None``: every tenant's, as the operator console lists)."""
        clauses: list[str] = []
        args: list[Any] = []
        for clause, value in (
            ("tenant_id = {}", tenant_id),
            ("state = {}", state),
            ("package_id = {}", package_id),
            ("created_at >= {}", created_from),
            ("created_at < {}", created_to),
        ):
            if value is not None:
                clauses.append(clause)
                args.append(value)
        if after is not None:
            clauses.append("(created_at < {} OR (created_at = {} AND id < {}))")
            args += [after[0], after[0], after[1]]
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self.db.fetch(
            f"SELECT {_SELECT} FROM assessment_order{where} ORDER BY created_at DESC, id DESC LIMIT {{}}",
            *args,
            limit,
        )
        return [msgspec.convert(r, OrderRecord) for r in rows]

    async def states_since(self, since: datetime) -> dict[str, int]:
        """How many orders arrived since ``since``, by state (the console's overview)."""
        rows = await self.db.fetch(
            "SELECT state, COUNT(*) AS n FROM assessment_order WHERE created_at >= {} GROUP BY state", since
        )
        return {str(row["state"]): int(row["n"]) for row in rows}

    async def count_in_state(self, state: str) -> int:
        rows = await self.db.fetch("SELECT COUNT(*) AS n FROM assessment_order WHERE state = {}", state)
        return int(rows[0]["n"])

    async def latest_result(self, order_id: uuid.UUID) -> ResultRecord | None:
        rows = await self.db.fetch(
            "SELECT id, body, status, write_back, created_at FROM order_result WHERE order_id = {}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            order_id,
        )
        return msgspec.convert(rows[0], ResultRecord) if rows else None
