"""Authentication: the admin token of the vendor's operators, and tenant API keys of the vendor's platform.

:class:`api.admission.AdmissionMiddleware` resolves ``Authorization: Bearer ...`` to :class:`Admin` or
:class:`TenantKey` (:func:`resolve_token`) for every route under ``/v1`` before any body is read, and puts
the principal in the scope; anything else is a 401 problem with ``WWW-Authenticate: Bearer`` there.
``principal`` (a dependency) and the ``admin_only`` guard read it. A tenant key may act only on its own
tenant: :func:`visible_tenant` answers 404 for any other id, so a key cannot even learn whether another
tenant exists. Routes declare ``security=SECURITY`` for the OpenAPI.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityScheme
from litestar.types import Scope

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


def bearer_token_of(scope: Scope) -> str | None:
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
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


async def resolve_token(settings: Settings, db: Database, token: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None (no token, or none we know)."""
    if token is None:
        return None
    if is_admin_token(settings, token):
        return Admin()
    if token.startswith(API_KEY_PREFIX):
        tenant_id = await TenantRepository(db).authenticate(token)
        if tenant_id is not None:
            return TenantKey(tenant_id=tenant_id)
    return None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the admission middleware resolved; a route outside its reach has none (401, fail closed)."""
    user = connection.scope.get("user")
    if not isinstance(user, Admin | TenantKey):
        raise unauthorized()
    return user


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    # A tenant key on an operators' route is answered like no credential at all (as it always was).
    if not isinstance(principal_of(connection), Admin):
        raise unauthorized()


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


def visible_tenant(principal: Principal, tenant_id: uuid.UUID) -> uuid.UUID:
    """The tenant id if the caller may see it; otherwise NotFound (never reveal that it exists)."""
    if isinstance(principal, TenantKey) and principal.tenant_id != tenant_id:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant_id


def require_admin(principal: Principal) -> None:
    if not isinstance(principal, Admin):
        raise PermissionDeniedException(detail="only the admin token may do this")
