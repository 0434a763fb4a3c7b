"""Authentication: the admin token of the vendor's operators, and tenant API keys of the vendor's platform.

``principal`` (a dependency) resolves ``Authorization: Bearer ...`` to :class:`Admin` or
:class:`TenantKey`; anything else is a 401 problem with ``WWW-Authenticate: Bearer``. A tenant key may act
only on its own tenant: :func:`visible_tenant` answers 404 for any other id, so a key cannot even learn
whether another tenant exists. Routes declare ``security=SECURITY`` for the OpenAPI.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityScheme

from core.errors import NotFound
from core.settings import Settings
from core.tenants import API_KEY_PREFIX
from tenants.db import Database
from tenants.repository import TenantRepository

SCHEME_NAME: Final = "bearer"
SECURITY_SCHEMES: Final[dict[str, SecurityScheme | Reference]] = {
    SCHEME_NAME: SecurityScheme(type="http", scheme="bearer", description="the admin token or a tenant API key")
}
SECURITY: Final[list[dict[str, list[str]]]] = [{SCHEME_NAME: []}]
ADMIN_SECURITY: Final = SECURITY
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="assessgate"'}


class Admin(msgspec.Struct, frozen=True, tag="admin"):
    """The vendor's operators: every tenant."""


class TenantKey(msgspec.Struct, frozen=True, tag="tenant"):
    """The vendor's platform acting for one tenant."""

    tenant_id: uuid.UUID


Principal = Admin | TenantKey


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_admin_token(settings: Settings, token: str | None) -> bool:
    expected = settings.admin_token
    return token is not None and bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def unauthorized() -> NotAuthorizedException:
    return NotAuthorizedException(
        detail="a valid admin token or tenant API key is required (Authorization: Bearer ...)", headers=_CHALLENGE
    )


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if not is_admin_token(connection.app.state.settings, bearer_token(connection)):
        raise unauthorized()


async def provide_principal(request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Principal:
    token = bearer_token(request)
    if is_admin_token(request.app.state.settings, token):
        return Admin()
    if token is not None and token.startswith(API_KEY_PREFIX):
        tenant_id = await TenantRepository(db).authenticate(token)
        if tenant_id is not None:
            return TenantKey(tenant_id=tenant_id)
    raise unauthorized()


def visible_tenant(principal: Principal, tenant_id: uuid.UUID) -> uuid.UUID:
    """The tenant id if the caller may see it; otherwise NotFound (never reveal that it exists)."""
    if isinstance(principal, TenantKey) and principal.tenant_id != tenant_id:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant_id


def require_admin(principal: Principal) -> None:
    if not isinstance(principal, Admin):
        raise PermissionDeniedException(detail="only the admin token may do this")
