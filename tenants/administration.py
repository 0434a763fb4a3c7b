"""Administering tenants: create, list, change and delete them, and set their secrets, adapter routes and adapter
settings; their event log. Each change is written with its audit entry in one transaction (``tenants/audit.py``),
so the entry exists exactly when the change does. ``actor`` is who did it (``admin`` or ``api_key:<id>``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from core.cursors import Position, decode_cursor, page_of
from core.errors import Conflict, NotFound
from core.tenants import Tenant
from storage.database import Database
from tenants.audit import KOMBO, AuditEntry, AuditLog
from tenants.repository import TenantRepository
from tenants.vault import Vault

#: How many of a tenant's orders still wait for their result (the orders layer answers; a tenant holding
#: any is not deleted without ``force``).
OpenOrders = Callable[[uuid.UUID], Awaitable[int]]


class TenantEvent(msgspec.Struct, kw_only=True):
    event_id: str
    #: Kombo's event type (``integration-created``, ...) or our change (``integration.bound``, ...).
    type: str
    received_at: datetime
    note: str | None
    #: Who: ``kombo``, ``admin``, ``cli``, ``api_key:<key id>`` or ``onboarding_link:<issue id>`` (a customer's admin).
    actor: str


def created_position(tenant: Tenant) -> Position:
    return Position(tenant.created_at, tenant.id)


class TenantAdministration:
    def __init__(self, db: Database, *, secret_keys: Sequence[str], open_orders: OpenOrders) -> None:
        self.db = db
        self.tenants = TenantRepository(db)
        self.audit = AuditLog(db)
        self.secret_keys = tuple(secret_keys)
        self.open_orders = open_orders

    # The tenant itself.
    async def visible(self, tenant_id: uuid.UUID) -> Tenant:
        """The live tenant with this id, or a 404 naming only the id asked for."""
        return await self.tenants.require(tenant_id)

    async def create(self, *, name: str, external_id: str | None, actor: str) -> Tenant:
        async with self.db.tx():
            tenant = await self.tenants.create(name=name, external_id=external_id)
            await self.audit.record(tenant.id, actor, "tenant.created", tenant.name)
        return tenant

    async def page(
        self, *, cursor: str | None, limit: int, only: uuid.UUID | None, search: str | None = None
    ) -> tuple[list[Tenant], str | None]:
        """Tenants in creation order after the cursor (``only``: that one tenant, for its own key; ``search``: those
        whose name or external id contains it)."""
        after = decode_cursor(cursor) if cursor else None
        found = await self.tenants.list_tenants(
            after=(after.at, after.id) if after else None, limit=limit + 1, only=only, search=search
        )
        return page_of(found, limit, created_position)

    async def update(self, tenant_id: uuid.UUID, *, name: str | None, external_id: str | None, actor: str) -> Tenant:
        change = msgspec.json.encode({"name": name, "external_id": external_id}).decode()
        async with self.db.tx():
            tenant = await self.tenants.update(tenant_id, name=name, external_id=external_id)
            await self.audit.record(tenant_id, actor, "tenant.updated", change)
        return tenant

    async def delete(self, tenant_id: uuid.UUID, *, force: bool, actor: str) -> None:
        """Mark the tenant deleted (kept, never dropped); one with open orders only with ``force``."""
        open_orders = await self.open_orders(tenant_id)
        if open_orders and not force:
            raise Conflict(f"the tenant has {open_orders} open order(s); pass force=true to delete it anyway")
        async with self.db.tx():
            await self.tenants.soft_delete(tenant_id)
            await self.audit.record(tenant_id, actor, "tenant.deleted", f"force={force}")

    async def events(self, tenant_id: uuid.UUID, *, limit: int) -> list[TenantEvent]:
        """Kombo's events and what operators and API keys changed, newest first."""
        kombo_events = [
            TenantEvent(**{**row, "actor": KOMBO}) for row in await self.tenants.events(tenant_id, limit=limit)
        ]
        changes = [
            TenantEvent(event_id=str(e.id), type=e.action, received_at=e.at, note=e.detail, actor=e.actor)
            for e in await self.audit.of_tenant(tenant_id, limit=limit)
        ]
        return sorted(kombo_events + changes, key=lambda e: e.received_at, reverse=True)[:limit]

    # The audit log itself: what operators did that no change above records (a login, a job retried).
    async def note(self, tenant_id: uuid.UUID | None, *, actor: str, action: str, detail: str | None = None) -> None:
        await self.audit.record(tenant_id, actor, action, detail)

    async def audit_page(self, *, cursor: str | None, limit: int) -> tuple[list[AuditEntry], str | None]:
        """Every audit entry, newest first (the operator console shows them)."""
        return await self.audit.page(cursor=cursor, limit=limit)

    # Its secrets, which are write-only.
    async def put_secret(self, tenant_id: uuid.UUID, name: str, value: str, *, actor: str) -> None:
        async with self.db.tx():
            await self._vault().put(tenant_id, name, value)
            await self.audit.record(tenant_id, actor, "secret.set", name)

    async def secret_names(self, tenant_id: uuid.UUID) -> list[str]:
        return await self._vault().names(tenant_id)

    async def delete_secret(self, tenant_id: uuid.UUID, name: str, *, actor: str) -> None:
        async with self.db.tx():
            if not await self._vault().delete(tenant_id, name):
                raise NotFound(f"no secret {name!r}")
            await self.audit.record(tenant_id, actor, "secret.deleted", name)

    # Its adapter routes and settings.
    async def routes(self, tenant_id: uuid.UUID) -> dict[str, str]:
        return await self.tenants.routes(tenant_id)

    async def set_routes(self, tenant_id: uuid.UUID, routes: dict[str, str], *, actor: str) -> dict[str, str]:
        """Replace the tenant's routing overrides (checked against the adapters by ``orders/adapter_setup.py``)."""
        async with self.db.tx():
            stored = await self.tenants.set_routes(tenant_id, routes)
            await self.audit.record(tenant_id, actor, "routes.set", msgspec.json.encode(stored).decode())
        return stored

    async def adapter_settings(self, tenant_id: uuid.UUID) -> dict[str, dict[str, Any]]:
        """The tenant's overrides of plugins.toml's adapter settings, by adapter name."""
        return await self.tenants.all_adapter_settings(tenant_id)

    async def set_adapter_settings(
        self, tenant_id: uuid.UUID, adapter: str, settings: dict[str, Any], *, actor: str
    ) -> dict[str, dict[str, Any]]:
        """Replace the tenant's overrides of one adapter's settings ({} removes them); returns all of them."""
        async with self.db.tx():
            await self.tenants.set_adapter_settings(tenant_id, adapter, settings)
            await self.audit.record(tenant_id, actor, "adapter_settings.set", adapter)
        return await self.tenants.all_adapter_settings(tenant_id)

    def _vault(self) -> Vault:
        # Built on use: a process without encryption keys still serves everything but secrets (a clear error).
        return Vault(self.db, self.secret_keys)
