"""Provisioning that only adds what is missing: the demo's seed (``api/demo.py``) runs it at every start.

Each step leaves alone whatever exists (a tenant, a package, a catalog, routes, settings, secrets someone set),
so what was changed by hand survives a restart as it was left. The steps write no audit entries of their own:
the caller records what it added, once, with :meth:`TenantProvisioning.record`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from core.catalog import CatalogPackage, TenantPackage
from core.permissions import Scope
from core.tenants import Tenant
from storage.database import Database
from tenants.audit import AuditLog
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository
from tenants.vault import Vault

#: Tenants looked through for an external id (a demo has a handful).
_SCAN_LIMIT = 1000


class TenantProvisioning:
    def __init__(self, db: Database, *, secret_keys: Sequence[str], catalogs: Catalogs) -> None:
        self.db = db
        self.tenants = TenantRepository(db)
        self.catalogs = catalogs
        self.secret_keys = tuple(secret_keys)

    async def tenant(self, *, external_id: str, name: str) -> tuple[Tenant, bool]:
        """The tenant with this external id, created if there is none; and whether it was created."""
        found = next(
            (t for t in await self.tenants.list_tenants(limit=_SCAN_LIMIT) if t.external_id == external_id), None
        )
        if found is not None:
            return found, False
        return await self.tenants.create(name=name, external_id=external_id), True

    async def vendor_packages(self, packages: Sequence[CatalogPackage]) -> int:
        """Append the packages the vendor's catalog lacks (its own stay as they are); how many were added."""
        vendor = (await self.catalogs.vendor()).packages
        missing = [p for p in packages if p.id not in {v.id for v in vendor}]
        if missing:
            await self.catalogs.set_vendor([*vendor, *missing], now_ms=self.catalogs.clock_ms())
        return len(missing)

    async def catalog(self, tenant_id: uuid.UUID, selection: list[TenantPackage]) -> bool:
        """Offer ``selection`` unless the tenant has a catalog already; whether it was set."""
        if await self.catalogs.desired(tenant_id) is not None:
            return False
        await self.catalogs.set_desired(tenant_id, selection, confirm_deletions=False, now_ms=self.catalogs.clock_ms())
        return True

    async def secrets(self, tenant_id: uuid.UUID, values: Mapping[str, str]) -> list[str]:
        """Store the secrets the tenant lacks; the names stored."""
        vault = Vault(self.db, self.secret_keys)
        stored = set(await vault.names(tenant_id))
        added = [name for name in values if name not in stored]
        for name in added:
            await vault.put(tenant_id, name, values[name])
        return added

    async def secret(self, tenant_id: uuid.UUID, name: str) -> str | None:
        return await Vault(self.db, self.secret_keys).get(tenant_id, name)

    async def adapter_settings(self, tenant_id: uuid.UUID, wanted: Mapping[str, dict[str, Any]]) -> list[str]:
        """Set the adapters' settings the tenant has none for; the adapters set."""
        configured = await self.tenants.all_adapter_settings(tenant_id)
        added = [adapter for adapter in wanted if adapter not in configured]
        for adapter in added:
            await self.tenants.set_adapter_settings(tenant_id, adapter, wanted[adapter])
        return added

    async def routes(self, tenant_id: uuid.UUID, routes: dict[str, str]) -> bool:
        """Route the tenant unless it has routes already; whether they were set."""
        if await self.tenants.routes(tenant_id):
            return False
        await self.tenants.set_routes(tenant_id, routes)
        return True

    async def fresh_key(self, tenant_id: uuid.UUID, name: str, scopes: frozenset[Scope]) -> str:
        """Revoke the tenant's live keys named ``name`` and mint a new one; its plaintext."""
        for key in await self.tenants.api_keys(tenant_id):
            if key.name == name and key.revoked_at is None:
                await self.tenants.revoke_api_key(tenant_id, key.id)
        _, plaintext = await self.tenants.create_api_key(tenant_id, name, scopes)
        return plaintext

    async def record(self, tenant_id: uuid.UUID, actor: str, action: str, changes: Sequence[str]) -> None:
        """One audit entry per change, in one transaction (the tenant's event log shows them)."""
        async with self.db.tx():
            for change in changes:
                await AuditLog(self.db).record(tenant_id, actor, action, change)
