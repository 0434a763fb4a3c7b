"""Setting up a tenant's adapters through the API: its routes (which adapter serves which package type) and its
overrides of plugins.toml's adapter settings. Both are checked against the loaded adapters before they are
stored, every problem at once (a 422 listing each), so a tenant is never routed to an adapter that cannot
serve it; the change and its audit entry are then written by ``tenants/administration.py``."""

from __future__ import annotations

import uuid
from typing import Any

from core.adapters import HasRequirements
from core.errors import FieldError, ValidationFailed
from core.plugins_file import ROUTE_KEYS
from core.ports import AdapterDirectory
from orders.adapter_runtime import AdapterRuntime
from tenants.administration import TenantAdministration


class AdapterSetup:
    def __init__(
        self, adapters: AdapterDirectory, runtime: AdapterRuntime, administration: TenantAdministration
    ) -> None:
        self.adapters = adapters
        self.runtime = runtime
        self.administration = administration

    async def set_routes(self, tenant_id: uuid.UUID, routes: dict[str, str], *, actor: str) -> dict[str, str]:
        """Replace the tenant's routes: known route keys, loaded adapters, and what those adapters need of the
        tenant (a secret, a setting) already there."""
        errors = [
            FieldError(path=f"$.routes.{key}", message=f"not a route key; use one of {', '.join(sorted(ROUTE_KEYS))}")
            for key in routes
            if key not in ROUTE_KEYS
        ] + [
            FieldError(path=f"$.routes.{key}", message=f"no adapter named {name!r} is loaded")
            for key, name in routes.items()
            if self.adapters.adapter(name, {}) is None
        ]
        if not errors:  # what the adapters these routes send the tenant's catalog to still need
            unmet = await self.runtime.misconfiguration(tenant_id, routes, only=set(routes.values()))
            errors = [FieldError(path="$.routes", message=problem) for problem in unmet]
        if errors:
            raise ValidationFailed(errors)
        return await self.administration.set_routes(tenant_id, routes, actor=actor)

    async def set_settings(
        self, tenant_id: uuid.UUID, adapter: str, settings: dict[str, Any], *, actor: str
    ) -> dict[str, dict[str, Any]]:
        """Override ``adapter``'s settings for the tenant (merged over plugins.toml's, validated against the
        adapter's config; ``{}`` removes the overrides); returns all the tenant's overrides."""
        errors = self.adapters.check_settings(adapter, settings)
        configured: object = self.adapters.adapter(adapter, settings) if settings and not errors else None
        if isinstance(configured, HasRequirements):  # a setting the adapter cannot work without, left empty
            errors = [
                FieldError(path=f"$.{r.setting}", message=r.describe(adapter))
                for r in configured.requirements()
                if r.setting is not None
            ]
        if errors:
            raise ValidationFailed(errors)
        return await self.administration.set_adapter_settings(tenant_id, adapter, settings, actor=actor)
