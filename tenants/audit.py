"""The audit log: what the admin token, a tenant API key or Kombo did to a tenant, with who and when.

Entries are written in the same transaction as the change they describe, so one exists exactly when the
change does. A tenant's event log (``GET /v1/tenants/{id}/events``) shows them beside Kombo's webhook events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

import msgspec

from core.clock import Clock, stamp, wall_clock_ms
from core.cursors import Position, decode_cursor, page_of
from storage.database import Database

#: The actor of changes that Kombo's webhooks made (an ``integration-created`` binding, say).
KOMBO: Final = "kombo"
ADMIN: Final = "admin"


def key_actor(key_id: uuid.UUID) -> str:
    """The actor string of a tenant API key (its id: never its value)."""
    return f"api_key:{key_id}"


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    at: datetime
    tenant_id: uuid.UUID | None
    actor: str
    action: str
    detail: str | None


class AuditLog:
    def __init__(self, db: Database, *, clock_ms: Clock = wall_clock_ms) -> None:
        self.db = db
        self.clock_ms = clock_ms

    async def record(self, tenant_id: uuid.UUID | None, actor: str, action: str, detail: str | None = None) -> None:
        await self.db.fetch(
            "INSERT INTO audit_event (id, at, tenant_id, actor, action, detail) VALUES ({}, {}, {}, {}, {}, {})",
            uuid.uuid4(),
            stamp(self.clock_ms()),
            tenant_id,
            actor,
            action,
            detail,
        )

    async def of_tenant(self, tenant_id: uuid.UUID, *, limit: int) -> list[AuditEntry]:
        """The tenant's entries, newest first."""
        rows = await self.db.fetch(
            "SELECT id, at, tenant_id, actor, action, detail FROM audit_event WHERE tenant_id = {}"
            " ORDER BY at DESC, id DESC LIMIT {}",
            tenant_id,
            limit,
        )
        return [_entry(row) for row in rows]

    async def page(self, *, cursor: str | None, limit: int) -> tuple[list[AuditEntry], str | None]:
        """Every entry, newest first, after the cursor (the operator console's audit log)."""
        after = decode_cursor(cursor) if cursor else None
        clause, args = (
            ("", []) if after is None else (" WHERE (at < {} OR (at = {} AND id < {}))", [after.at, after.at, after.id])
        )
        rows = await self.db.fetch(
            f"SELECT id, at, tenant_id, actor, action, detail FROM audit_event{clause} ORDER BY at DESC, id DESC"
            " LIMIT {}",
            *args,
            limit + 1,
        )
        return page_of([_entry(row) for row in rows], limit, entry_position)


def entry_position(entry: AuditEntry) -> Position:
    return Position(entry.at, entry.id)


def _entry(row: dict[str, Any]) -> AuditEntry:
    return msgspec.convert(row, AuditEntry)
