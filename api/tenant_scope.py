"""The dependencies of ``/v1/tenants/{tenant_id}/...`` routes: who calls (``principal``) and the tenant they act
on (``tenant``), resolved once so a handler receives ``tenant: Tenant`` ready to use.

:func:`api.auth.authorize` (the guard) has already answered 401/403 and the 404 of a tenant key naming another
tenant; :func:`provide_tenant` repeats that last check (a dependency must be safe wherever it is declared) and
answers 404 for a tenant that does not exist or was deleted. Both 404s name only the id asked for, so a key
learns nothing about other tenants. The routes that name one order (read it, submit its result, report an event
on it) take no ``tenant``: the guard's check stands, and the order's own read checks the tenant in the same
query (``Orders.resolve``), one round trip less on the results API's hot path. ``actor`` is the principal as the
audit log names it.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from litestar import Controller, Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from api.auth import SECURITY, Principal, TenantKey, actor_of, authorize, principal_of, provide_principal
from api.composition import Gateway
from core.errors import NotFound
from core.tenants import Tenant


async def provide_tenant(
    request: Request[Any, Any, Any], tenant_id: FromPath[uuid.UUID], gateway: NamedDependency[Gateway]
) -> Tenant:
    principal = principal_of(request)
    if isinstance(principal, TenantKey) and principal.tenant_id != tenant_id:
        raise NotFound(f"no tenant {tenant_id}")
    return await gateway.administration.visible(tenant_id)


async def provide_actor(principal: NamedDependency[Principal]) -> str:
    return actor_of(principal)


#: A controller's ``dependencies`` for routes acting on one tenant (and on the tenant list).
TENANT_DEPENDENCIES: Final = {
    "principal": Provide(provide_principal),
    "actor": Provide(provide_actor),
    "tenant": Provide(provide_tenant),
}


class TenantController(Controller):
    """What every controller under ``/v1/tenants`` shares: the path, the security scheme, the dependencies above
    and the one guard; a subclass names its OpenAPI tag and its handlers."""

    path = "/v1/tenants"
    security = SECURITY
    dependencies = TENANT_DEPENDENCIES
    guards = [authorize]  # noqa: RUF012 - every handler declares opt={"access": ...} (core/permissions.py)
