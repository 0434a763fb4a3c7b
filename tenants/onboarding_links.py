"""Onboarding links: the signed link an operator sends to a customer's admin, who opens it to connect the ATS.

One link per tenant is current: issuing a new one revokes the previous (its page then says a newer link was
sent). A link expires after ``ASSESSGATE_ONBOARDING_LINK_TTL_DAYS``; it is used up once the customer's admin saw
the tenant connected through it. Issuing, starting Kombo Connect and completing are each written to the audit log
(``tenants/audit.py``). The link never binds anything itself: Kombo's ``integration-created`` webhook binds the
integration to the tenant its origin id names (``integrations/binding.py``); the page only reports it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import msgspec

from core import onboarding_tokens
from core.clock import Clock, as_datetime
from core.errors import ConfigError
from core.onboarding_tokens import OnboardingClaims, TokenCheck
from core.tenants import Tenant
from storage.database import Database
from tenants.audit import AuditLog
from tenants.repository import TenantRepository

#: The path of the onboarding page under the gateway's public URL (candidate pages are under ``/c/``).
PAGE_PATH: Final = "/connect"
DAY_MS: Final = 86_400_000


def customer_actor(link_id: uuid.UUID) -> str:
    """The audit log's actor for what the customer's admin did through a link (the link's issue, never its token)."""
    return f"onboarding_link:{link_id}"


class OnboardingState(StrEnum):
    READY = "ready"  # the admin may start Kombo Connect
    CONNECTED = "connected"  # the tenant is connected, seen through this link for the first time now
    ALREADY_CONNECTED = "already_connected"  # the link was completed before and the tenant is still connected
    USED = "used"  # completed before, but the tenant is no longer connected: a new link is needed
    EXPIRED = "expired"
    REPLACED = "replaced"  # a newer link was issued for the tenant
    INVALID = "invalid"  # forged, tampered with, or naming no tenant


class IssuedLink(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    expires_at: datetime


class Onboarding(msgspec.Struct, frozen=True, kw_only=True):
    """What a link's page shows: its state, and (for a genuine link) whose it is."""

    state: OnboardingState
    tenant: Tenant | None = None
    link_id: uuid.UUID | None = None
    end_user_email: str = ""
    expires_at: datetime | None = None


class _LinkRow(msgspec.Struct, frozen=True, kw_only=True):
    link_id: uuid.UUID
    end_user_email: str
    expires_at: datetime
    completed_at: datetime | None


class OnboardingLinks:
    def __init__(
        self, db: Database, *, secret_keys: tuple[str, ...], base_url: str, ttl_days: int, clock_ms: Clock
    ) -> None:
        self.db = db
        self.secret_keys = secret_keys
        self.base_url = base_url
        self.ttl_ms = ttl_days * DAY_MS
        self.clock_ms = clock_ms
        self.tenants = TenantRepository(db, clock_ms=clock_ms)
        self.audit = AuditLog(db, clock_ms=clock_ms)

    async def issue(self, tenant_id: uuid.UUID, *, end_user_email: str, actor: str) -> IssuedLink:
        """A new link for the tenant's admin at ``end_user_email``; the tenant's previous link stops working."""
        if not self.secret_keys:
            raise ConfigError("ASSESSGATE_SECRET_KEYS", "onboarding links are signed with the first secret key")
        now = self.clock_ms()
        expires_ms = now + self.ttl_ms
        link_id = uuid.uuid4()
        async with self.db.tx():
            await self.tenants.require(tenant_id)
            await self.db.fetch(
                "INSERT INTO onboarding_link (tenant_id, link_id, end_user_email, issued_at, expires_at, issued_by)"
                " VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (tenant_id) DO UPDATE SET link_id = excluded.link_id,"
                " end_user_email = excluded.end_user_email, issued_at = excluded.issued_at,"
                " expires_at = excluded.expires_at, issued_by = excluded.issued_by, completed_at = NULL,"
                " integration_id = NULL",
                tenant_id,
                link_id,
                end_user_email,
                as_datetime(now),
                as_datetime(expires_ms),
                actor,
            )
            await self.audit.record(tenant_id, actor, "onboarding_link.issued", f"{link_id} for {end_user_email}")
        claims = OnboardingClaims(tenant_id=tenant_id, link_id=link_id, expires_at_s=expires_ms // 1000)
        token = onboarding_tokens.mint(self.secret_keys[0], claims)
        return IssuedLink(url=f"{self.base_url}{PAGE_PATH}/{token}", expires_at=as_datetime(expires_ms))

    async def open(self, token: str) -> Onboarding:
        """The link's state; the first time it sees its tenant connected, the link is used up (and audited)."""
        check, claims = onboarding_tokens.check(self.secret_keys, token, now_s=self.clock_ms() / 1000)
        tenant = await self.tenants.get(claims.tenant_id) if claims is not None else None
        if claims is None or tenant is None:
            return Onboarding(state=OnboardingState.INVALID)
        row = await self._row(tenant.id)
        if row is None or row.link_id != claims.link_id:
            state = OnboardingState.REPLACED if row is not None else OnboardingState.INVALID
            return Onboarding(state=state, tenant=tenant)
        found = Onboarding(
            state=OnboardingState.READY,
            tenant=tenant,
            link_id=row.link_id,
            end_user_email=row.end_user_email,
            expires_at=row.expires_at,
        )
        if row.completed_at is not None:
            connected = tenant.integration_id is not None
            return msgspec.structs.replace(
                found, state=OnboardingState.ALREADY_CONNECTED if connected else OnboardingState.USED
            )
        if check is TokenCheck.EXPIRED:
            return msgspec.structs.replace(found, state=OnboardingState.EXPIRED)
        if tenant.integration_id is not None:
            completed_now = await self._complete(tenant, row.link_id)
            state = OnboardingState.CONNECTED if completed_now else OnboardingState.ALREADY_CONNECTED
            return msgspec.structs.replace(found, state=state)
        return found

    async def started(self, onboarding: Onboarding) -> None:
        """The admin was sent to Kombo Connect through this link."""
        assert onboarding.tenant is not None
        assert onboarding.link_id is not None
        async with self.db.tx():
            await self.audit.record(
                onboarding.tenant.id, customer_actor(onboarding.link_id), "onboarding_link.connect_started"
            )

    async def _complete(self, tenant: Tenant, link_id: uuid.UUID) -> bool:
        """Mark the link used by the tenant's binding; False when another request did so first."""
        async with self.db.tx():
            done = await self.db.fetch(
                "UPDATE onboarding_link SET completed_at = {}, integration_id = {}"
                " WHERE tenant_id = {} AND link_id = {} AND completed_at IS NULL RETURNING tenant_id",
                as_datetime(self.clock_ms()),
                tenant.integration_id,
                tenant.id,
                link_id,
            )
            if done:
                await self.audit.record(
                    tenant.id, customer_actor(link_id), "onboarding_link.completed", tenant.integration_id
                )
        return bool(done)

    async def _row(self, tenant_id: uuid.UUID) -> _LinkRow | None:
        rows: list[dict[str, Any]] = await self.db.fetch(
            "SELECT link_id, end_user_email, expires_at, completed_at FROM onboarding_link WHERE tenant_id = {}",
            tenant_id,
        )
        return msgspec.convert(rows[0], _LinkRow) if rows else None
