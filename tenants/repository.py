"""Tenant-scoped persistence: tenants, their API keys and integration binding. Rows become core Structs here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from core.clock import Clock, as_datetime, wall_clock_ms
from core.errors import Conflict, NotFound
from core.permissions import Scope, decode_scopes, encode_scopes
from core.tenants import ApiKey, KeyHolder, Tenant, hash_api_key, new_api_key
from storage.database import Database

_TENANT_COLUMNS = "id, name, external_id, integration_id, integration_state, created_at, updated_at, deleted_at"


def _tenant(row: dict[str, Any]) -> Tenant:
    return msgspec.convert(row, Tenant, from_attributes=False)


class TenantRepository:
    def __init__(self, db: Database, *, clock_ms: Clock = wall_clock_ms) -> None:
        self.db = db
        self.clock_ms = clock_ms

    async def create(self, *, name: str, external_id: str | None) -> Tenant:
        tenant_id = uuid.uuid4()
        now = as_datetime(self.clock_ms())
        async with self.db.tx():
            if external_id is not None and await self._by_external_id(external_id) is not None:
                raise Conflict("another tenant has this external_id")
            await self.db.fetch(
                "INSERT INTO tenant (id, name, external_id, created_at, updated_at) VALUES ({}, {}, {}, {}, {})",
                tenant_id,
                name,
                external_id,
                now,
                now,
            )
        tenant = await self.get(tenant_id)
        assert tenant is not None
        return tenant

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        rows = await self.db.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenant WHERE id = {{}} AND deleted_at IS NULL", tenant_id
        )
        return _tenant(rows[0]) if rows else None

    async def require(self, tenant_id: uuid.UUID) -> Tenant:
        tenant = await self.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id}")
        return tenant

    async def by_integration(self, integration_id: str) -> Tenant | None:
        rows = await self.db.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenant WHERE integration_id = {{}} AND deleted_at IS NULL", integration_id
        )
        return _tenant(rows[0]) if rows else None

    async def list_tenants(
        self,
        *,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 100,
        only: uuid.UUID | None = None,
        search: str | None = None,
    ) -> list[Tenant]:
        """Live tenants in creation order; ``search``: those whose name or external id contains it (any case)."""
        clauses = ["deleted_at IS NULL"]
        args: list[Any] = []
        if only is not None:
            clauses.append("id = {}")
            args.append(only)
        if search:
            pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(LOWER(name) LIKE {} ESCAPE '\\' OR LOWER(COALESCE(external_id, '')) LIKE {} ESCAPE '\\')")
            args += [pattern, pattern]
        if after is not None:
            clauses.append("(created_at > {} OR (created_at = {} AND id > {}))")
            args += [after[0], after[0], after[1]]
        rows = await self.db.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenant WHERE {' AND '.join(clauses)} ORDER BY created_at, id LIMIT {{}}",
            *args,
            limit,
        )
        return [_tenant(row) for row in rows]

    async def bound(self, *, after: uuid.UUID | None = None, limit: int = 1000) -> list[Tenant]:
        """Tenants bound to an integration, by id (keyset: pass the last id of a page as ``after``)."""
        clause, args = ("", []) if after is None else (" AND id > {}", [after])
        rows = await self.db.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenant WHERE deleted_at IS NULL AND integration_id IS NOT NULL{clause}"
            " ORDER BY id LIMIT {}",
            *args,
            limit,
        )
        return [_tenant(row) for row in rows]

    async def many(self, tenant_ids: list[uuid.UUID]) -> list[Tenant]:
        if not tenant_ids:
            return []
        placeholders = ", ".join("{}" for _ in tenant_ids)
        rows = await self.db.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenant WHERE id IN ({placeholders}) AND deleted_at IS NULL", *tenant_ids
        )
        return [_tenant(row) for row in rows]

    async def update(self, tenant_id: uuid.UUID, *, name: str | None, external_id: str | None) -> Tenant:
        async with self.db.tx():
            current = await self.require(tenant_id)
            if external_id is not None and external_id != current.external_id:
                other = await self._by_external_id(external_id)
                if other is not None:
                    raise Conflict("another tenant has this external_id")
            await self.db.fetch(
                "UPDATE tenant SET name = {}, external_id = {}, updated_at = {} WHERE id = {}",
                name if name is not None else current.name,
                external_id if external_id is not None else current.external_id,
                as_datetime(self.clock_ms()),
                tenant_id,
            )
        return await self.require(tenant_id)

    async def soft_delete(self, tenant_id: uuid.UUID) -> None:
        """Mark deleted (rows stay for audit and for the orders that reference them); revoke its keys."""
        now = as_datetime(self.clock_ms())
        async with self.db.tx():
            await self.require(tenant_id)
            await self.db.fetch(
                "UPDATE tenant SET deleted_at = {}, integration_id = NULL, updated_at = {} WHERE id = {}",
                now,
                now,
                tenant_id,
            )
            await self.db.fetch(
                "UPDATE tenant_api_key SET revoked_at = {} WHERE tenant_id = {} AND revoked_at IS NULL", now, tenant_id
            )

    async def bind_integration(self, tenant_id: uuid.UUID, integration_id: str, *, state: str = "ACTIVE") -> Tenant:
        async with self.db.tx():
            await self.require(tenant_id)
            holder = await self.by_integration(integration_id)
            if holder is not None and holder.id != tenant_id:
                raise Conflict("that integration is bound to another tenant")
            await self.db.fetch(
                "UPDATE tenant SET integration_id = {}, integration_state = {}, updated_at = {} WHERE id = {}",
                integration_id,
                state,
                as_datetime(self.clock_ms()),
                tenant_id,
            )
        return await self.require(tenant_id)

    async def set_integration_state(self, integration_id: str, state: str) -> Tenant | None:
        async with self.db.tx():
            tenant = await self.by_integration(integration_id)
            if tenant is None:
                return None
            await self.db.fetch(
                "UPDATE tenant SET integration_state = {}, updated_at = {} WHERE id = {}",
                state,
                as_datetime(self.clock_ms()),
                tenant.id,
            )
        return await self.get(tenant.id)

    async def unbind_integration(self, integration_id: str) -> Tenant | None:
        async with self.db.tx():
            tenant = await self.by_integration(integration_id)
            if tenant is None:
                return None
            await self.db.fetch(
                "UPDATE tenant SET integration_id = NULL, integration_state = NULL, updated_at = {} WHERE id = {}",
                as_datetime(self.clock_ms()),
                tenant.id,
            )
        return await self.get(tenant.id)

    async def events(self, tenant_id: uuid.UUID, *, limit: int) -> list[dict[str, Any]]:
        """The tenant's event log: Kombo's events routed to it, newest first, without their payloads."""
        return await self.db.fetch(
            "SELECT event_id, type, received_at, note FROM webhook_event WHERE tenant_id = {}"
            " ORDER BY received_at DESC LIMIT {}",
            tenant_id,
            limit,
        )

    # ---------------------------------------------------------------- adapter routing
    async def routes(self, tenant_id: uuid.UUID) -> dict[str, str]:
        """The tenant's adapter routing overrides (route key -> adapter name)."""
        rows = await self.db.fetch("SELECT route_key, adapter FROM tenant_route WHERE tenant_id = {}", tenant_id)
        return {str(r["route_key"]): str(r["adapter"]) for r in rows}

    async def set_routes(self, tenant_id: uuid.UUID, routes: dict[str, str]) -> dict[str, str]:
        async with self.db.tx():
            await self.require(tenant_id)
            await self.db.fetch("DELETE FROM tenant_route WHERE tenant_id = {}", tenant_id)
            for key, adapter in sorted(routes.items()):
                await self.db.fetch(
                    "INSERT INTO tenant_route (tenant_id, route_key, adapter) VALUES ({}, {}, {})",
                    tenant_id,
                    key,
                    adapter,
                )
        return await self.routes(tenant_id)

    # ---------------------------------------------------------------- adapter settings
    async def adapter_settings(self, tenant_id: uuid.UUID, adapter: str) -> dict[str, Any]:
        """The tenant's overrides of one adapter's plugins.toml settings (empty: none)."""
        rows = await self.db.fetch(
            "SELECT settings FROM tenant_adapter_settings WHERE tenant_id = {} AND adapter = {}", tenant_id, adapter
        )
        return dict(msgspec.json.decode(rows[0]["settings"])) if rows else {}

    async def all_adapter_settings(self, tenant_id: uuid.UUID) -> dict[str, dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT adapter, settings FROM tenant_adapter_settings WHERE tenant_id = {} ORDER BY adapter", tenant_id
        )
        return {str(r["adapter"]): dict(msgspec.json.decode(r["settings"])) for r in rows}

    async def set_adapter_settings(self, tenant_id: uuid.UUID, adapter: str, settings: dict[str, Any]) -> None:
        """Replace the tenant's overrides of ``adapter``'s settings; empty settings remove them."""
        async with self.db.tx():
            await self.require(tenant_id)
            await self.db.fetch(
                "DELETE FROM tenant_adapter_settings WHERE tenant_id = {} AND adapter = {}", tenant_id, adapter
            )
            if settings:
                await self.db.fetch(
                    "INSERT INTO tenant_adapter_settings (tenant_id, adapter, settings, updated_at)"
                    " VALUES ({}, {}, {}, {})",
                    tenant_id,
                    adapter,
                    msgspec.json.encode(settings).decode(),
                    as_datetime(self.clock_ms()),
                )

    # ---------------------------------------------------------------- API keys
    async def create_api_key(
        self, tenant_id: uuid.UUID, name: str, scopes: frozenset[Scope], *, created_by: uuid.UUID | None = None
    ) -> tuple[ApiKey, str]:
        """Returns the key's record and its plaintext, which is never stored and cannot be shown again."""
        plaintext = new_api_key()
        key_id = uuid.uuid4()
        async with self.db.tx():
            await self.require(tenant_id)
            if created_by is not None:  # the minting key must still be live now, inside the write (see revoke)
                lock = "" if self.db.is_sqlite else " FOR UPDATE"
                live = await self.db.fetch(
                    f"SELECT id FROM tenant_api_key WHERE id = {{}} AND revoked_at IS NULL{lock}", created_by
                )
                if not live:
                    raise NotFound("the key making this request was revoked")
            await self.db.fetch(
                "INSERT INTO tenant_api_key (id, tenant_id, name, key_hash, created_at, scopes, created_by)"
                " VALUES ({}, {}, {}, {}, {}, {}, {})",
                key_id,
                tenant_id,
                name,
                hash_api_key(plaintext),
                as_datetime(self.clock_ms()),
                encode_scopes(scopes),
                created_by,
            )
        keys = await self.api_keys(tenant_id)
        return next(k for k in keys if k.id == key_id), plaintext

    async def api_keys(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        rows = await self.db.fetch(
            "SELECT id, tenant_id, name, scopes, created_at, revoked_at, created_by FROM tenant_api_key"
            " WHERE tenant_id = {} ORDER BY created_at, id",
            tenant_id,
        )
        return [msgspec.convert({**row, "scopes": decode_scopes(row["scopes"])}, ApiKey) for row in rows]

    async def revoke_api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> list[uuid.UUID]:
        """Revoke a live key and every live key it minted, transitively; returns the ids revoked (empty: none).

        Each key is revoked (its row locked) before its children are looked up, and a key can only mint while its
        own row is live (``create_api_key`` locks it), so a key minted concurrently is either seen here or
        refused there: none outlives its parent's revocation. On SQLite the writer lock serialises the two."""
        revoked: list[uuid.UUID] = []
        async with self.db.tx():
            frontier = [key_id]
            while frontier:
                current = frontier.pop()
                rows = await self.db.fetch(
                    "UPDATE tenant_api_key SET revoked_at = {} WHERE id = {} AND tenant_id = {}"
                    " AND revoked_at IS NULL RETURNING id",
                    as_datetime(self.clock_ms()),
                    current,
                    tenant_id,
                )
                if not rows and current == key_id:
                    return []
                revoked += [uuid.UUID(str(r["id"])) for r in rows]
                children = await self.db.fetch(
                    "SELECT id FROM tenant_api_key WHERE created_by = {} AND tenant_id = {} AND revoked_at IS NULL",
                    current,
                    tenant_id,
                )
                frontier += [uuid.UUID(str(r["id"])) for r in children]
        return revoked

    async def authenticate(self, plaintext: str) -> KeyHolder | None:
        """The live key with this plaintext, if any (the lookup is by hash; the hash is the unique index)."""
        rows = await self.db.fetch(
            "SELECT k.id AS key_id, k.tenant_id AS tenant_id, k.scopes AS scopes FROM tenant_api_key k"
            " JOIN tenant t ON t.id = k.tenant_id"
            " WHERE k.key_hash = {} AND k.revoked_at IS NULL AND t.deleted_at IS NULL",
            hash_api_key(plaintext),
        )
        if not rows:
            return None
        row = rows[0]
        return KeyHolder(
            key_id=uuid.UUID(str(row["key_id"])),
            tenant_id=uuid.UUID(str(row["tenant_id"])),
            scopes=decode_scopes(row["scopes"]),
        )

    async def _by_external_id(self, external_id: str) -> Tenant | None:
        rows = await self.db.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenant WHERE external_id = {{}} AND deleted_at IS NULL", external_id
        )
        return _tenant(rows[0]) if rows else None
