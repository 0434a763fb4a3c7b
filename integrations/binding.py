"""Binding a tenant to its Kombo integration: who may bind which integration, and what a binding sets off.

A tenant's own API key may bind only an integration Kombo reports as created for that tenant: the
``end_user.origin_id`` our connect link set to the tenant's id. Any other id (unknown to Kombo, made for
someone else, or held by another tenant) gets one and the same 404, so a key learns nothing about
integrations that are not its tenant's. The admin token may bind any integration; one held by another tenant
is a 409. Every binding is written with its audit entry and the jobs it releases in one transaction: catalog
pushes that waited for an integration, and orders held for it (which move only with a legitimate binding).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import msgspec

from core.errors import Conflict, KomboError, NotFound
from core.kombo import CreateLinkRequest
from core.kombo.vocabulary import IntegrationState, Language, LinkType
from core.ports import KomboApi
from core.tenants import Tenant
from jobs.outbox import Outbox
from jobs.retry_policy import refused_input
from orders.held_orders import after_binding
from storage.database import Database
from tenants.audit import AuditLog
from tenants.repository import TenantRepository


class IntegrationBinding:
    def __init__(self, db: Database, kombo: KomboApi, clock_ms: Callable[[], int]) -> None:
        self.db = db
        self.kombo = kombo
        self.clock_ms = clock_ms
        self.tenants = TenantRepository(db)
        self.audit = AuditLog(db)

    async def connect_link(
        self,
        tenant: Tenant,
        *,
        end_user_email: str,
        language: Language | None,
        integration_tool: str | None,
        link_type: LinkType | None = None,
    ) -> str:
        """A Kombo Connect link for the tenant: its id is the link's origin id, which binding checks later
        (``link_type``: Kombo's default, an embedded link, unless a page opens it directly: a magic link)."""
        request = CreateLinkRequest(
            end_user_email=end_user_email,
            end_user_organization_name=tenant.name,
            end_user_origin_id=str(tenant.id),
            language=language if language is not None else msgspec.UNSET,
            integration_tool=integration_tool if integration_tool is not None else msgspec.UNSET,
            link_type=link_type if link_type is not None else msgspec.UNSET,
        )
        return await self.kombo.create_link(request)

    async def relink(self, tenant: Tenant, *, actor: str) -> str:
        """A link that repairs the tenant's integration's credentials (409: it has no integration yet)."""
        if tenant.integration_id is None:
            raise Conflict("the tenant has no integration to relink; create a connect link instead")
        link = await self.kombo.relink(tenant.integration_id)
        async with self.db.tx():
            await self.audit.record(tenant.id, actor, "integration.relink_requested", tenant.integration_id)
        return link

    async def record(self, tenant_id: uuid.UUID, integration_id: str, state: str, *, actor: str | None) -> Tenant:
        """Record a binding already checked (the demo's own sandbox integration): see :func:`record_binding`."""
        return await record_binding(self.db, tenant_id, integration_id, state, actor=actor, now_ms=self.clock_ms())

    async def bind(self, tenant_id: uuid.UUID, integration_id: str, *, actor: str, owner_only: bool) -> Tenant:
        """Bind an integration by id (``owner_only``: the caller is the tenant's key, see the module doc)."""
        await self.tenants.require(tenant_id)
        try:
            integration = await self.kombo.get_integration(integration_id)
        except KomboError as exc:
            if owner_only and refused_input(exc):
                raise not_yours(integration_id) from None
            raise
        if owner_only and integration.end_user.origin_id != str(tenant_id):
            raise not_yours(integration_id)
        return await record_binding(
            self.db,
            tenant_id,
            integration.id,
            integration.status,
            actor=actor,
            now_ms=self.clock_ms(),
            owner_only=owner_only,
        )

    async def exchange(self, tenant_id: uuid.UUID, token: str, *, actor: str, owner_only: bool) -> Tenant:
        """Bind the integration a finished Kombo Connect flow's token names."""
        await self.tenants.require(tenant_id)
        try:
            found = await self.kombo.integration_by_token(token)
        except KomboError as exc:
            if owner_only and refused_input(exc):
                raise NotFound("no connection of this tenant matches that token") from None
            raise
        origin = found.end_user_origin_id if isinstance(found.end_user_origin_id, str) else None
        if owner_only and origin != str(tenant_id):
            raise NotFound("no connection of this tenant matches that token")
        if origin is not None and origin != str(tenant_id):
            raise Conflict("that connection was made for another tenant")
        return await record_binding(
            self.db,
            tenant_id,
            found.id,
            IntegrationState.ACTIVE,
            actor=actor,
            now_ms=self.clock_ms(),
            owner_only=owner_only,
        )


def not_yours(integration_id: str) -> NotFound:
    return NotFound(f"no integration {integration_id!r} was connected for this tenant")


async def record_binding(
    db: Database,
    tenant_id: uuid.UUID,
    integration_id: str,
    state: str,
    *,
    actor: str | None,
    now_ms: int,
    owner_only: bool = False,
) -> Tenant:
    """Record a binding, its audit entry and what it releases, in one transaction (the API's and Kombo's).

    ``actor`` ``None``: Kombo's webhook bound it, and the webhook's own entry in the event log says so."""
    tenants = TenantRepository(db)
    async with db.tx():
        holder = await tenants.by_integration(integration_id)
        if holder is not None and holder.id != tenant_id:
            if owner_only:
                raise not_yours(integration_id)
            raise Conflict("that integration is bound to another tenant")
        before = await tenants.require(tenant_id)
        tenant = await tenants.bind_integration(tenant_id, integration_id, state=state)
        if before.integration_id in (None, integration_id):
            action, detail = "integration.bound", integration_id
        else:
            action, detail = "integration.rebound", f"{before.integration_id} -> {integration_id}"
        if actor is not None:
            await AuditLog(db).record(tenant_id, actor, action, detail)
        await after_binding(Outbox(db), tenant_id, integration_id, now_ms)
    return tenant
