"""Tenant API keys: who a presented key is (authentication), and minting, listing and revoking them.

A key may grant only scopes it holds itself, and revoking a key revokes every key it minted
(``TenantRepository.revoke_api_key``), so a leaked key cannot outlive its own revocation. Each change is
written with its audit entry in one transaction.
"""

from __future__ import annotations

import uuid

import msgspec

from core.errors import Forbidden, NotFound
from core.permissions import DEFAULT_SCOPES, Scope, encode_scopes
from core.tenants import ApiKey, KeyHolder
from storage.database import Database
from tenants.audit import AuditLog
from tenants.repository import TenantRepository


class MintedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    #: Shown once: only its hash is stored.
    plaintext: str


class ApiKeys:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.tenants = TenantRepository(db)
        self.audit = AuditLog(db)

    async def authenticate(self, plaintext: str) -> KeyHolder | None:
        """The live key of a live tenant with this plaintext, if any."""
        return await self.tenants.authenticate(plaintext)

    async def mint(
        self,
        tenant_id: uuid.UUID,
        name: str,
        scopes: frozenset[Scope] | None,
        *,
        actor: str,
        minted_by: KeyHolder | None,
    ) -> MintedKey:
        """A new key with ``scopes`` (``None``: the narrow default); ``minted_by`` the key asking, if one is
        (``None``: the admin token), which may grant only scopes it holds."""
        granted = scopes if scopes is not None else DEFAULT_SCOPES
        if minted_by is not None and not granted <= minted_by.scopes:
            missing = ", ".join(sorted(granted - minted_by.scopes))
            raise Forbidden(f"an API key can only grant scopes it holds itself; it lacks {missing}")
        async with self.db.tx():
            key, plaintext = await self.tenants.create_api_key(
                tenant_id, name, granted, created_by=minted_by.key_id if minted_by else None
            )
            await self.audit.record(
                tenant_id, actor, "api_key.created", f"{key.id} {key.name!r} [{encode_scopes(granted)}]"
            )
        return MintedKey(key=key, plaintext=plaintext)

    async def of_tenant(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        return await self.tenants.api_keys(tenant_id)

    async def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID, *, actor: str) -> None:
        """Revoke a live key and every key it minted (404: no live key with that id)."""
        async with self.db.tx():
            revoked = await self.tenants.revoke_api_key(tenant_id, key_id)
            if not revoked:
                raise NotFound(f"no live API key {key_id}")
            await self.audit.record(tenant_id, actor, "api_key.revoked", " ".join(str(k) for k in revoked))
