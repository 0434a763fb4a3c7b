"""Authentication and authorization: the admin token of the vendor's operators, tenant API keys with scopes.

``api.admission.AdmissionMiddleware`` resolves ``Authorization: Bearer ...`` to :class:`Admin` or
:class:`TenantKey` (:func:`resolve_token`) for every route under ``/v1`` from the headers alone, before any body
is read, and puts the principal in the scope (anything else is a 401 problem with ``WWW-Authenticate: Bearer``
there). :func:`authorize` is then the one guard of every such route: each handler declares its rule as
``opt={"access": ...}`` (:mod:`core.permissions`). A tenant key acting on another tenant's id gets a 404, so
it cannot learn whether that tenant exists; on its own tenant, a rule it does not pass is a 403 naming the
scope it lacks. Routes declare ``security=SECURITY`` for the OpenAPI.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityScheme
from litestar.types import Scope as AsgiScope

from core.errors import Forbidden, NotFound
from core.permissions import Access, Scope, allows
from core.permissions import Admin as AdminRule
from core.settings import Settings
from core.tenants import API_KEY_PREFIX
from tenants.audit import ADMIN, key_actor
from tenants.keys import ApiKeys

SCHEME_NAME: Final = "bearer"
SECURITY_SCHEMES: Final[dict[str, SecurityScheme | Reference]] = {
    SCHEME_NAME: SecurityScheme(type="http", scheme="bearer", description="the admin token or a tenant API key")
}
SECURITY: Final[list[dict[str, list[str]]]] = [{SCHEME_NAME: []}]
ADMIN_SECURITY: Final = SECURITY
CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="assessgate"'}
UNAUTHORIZED_DETAIL: Final = "a valid admin token or tenant API key is required (Authorization: Bearer ...)"


class Admin(msgspec.Struct, frozen=True, tag="admin"):
    """The vendor's operators: every tenant."""


class TenantKey(msgspec.Struct, frozen=True, tag="tenant"):
    """The vendor's platform acting for one tenant, within the key's scopes."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    scopes: frozenset[Scope]


Principal = Admin | TenantKey


def bearer_token_of(scope: AsgiScope) -> str | None:
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_admin_token(settings: Settings, token: str | None) -> bool:
    expected = settings.admin_token
    return token is not None and bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def unauthorized() -> NotAuthorizedException:
    return NotAuthorizedException(detail=UNAUTHORIZED_DETAIL, headers=CHALLENGE)


async def resolve_token(settings: Settings, keys: ApiKeys, token: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None (no token, or none we know)."""
    if token is None:
        return None
    if is_admin_token(settings, token):
        return Admin()
    if token.startswith(API_KEY_PREFIX):
        holder = await keys.authenticate(token)
        if holder is not None:
            return TenantKey(tenant_id=holder.tenant_id, key_id=holder.key_id, scopes=holder.scopes)
    return None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the admission middleware resolved; a route outside its reach has none (401, fail closed)."""
    user = connection.scope.get("user")
    if not isinstance(user, Admin | TenantKey):
        raise unauthorized()
    return user


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard of every tenant route: the handler's ``access`` rule against the caller (see module doc)."""
    rule: Access | None = handler.opt.get("access")
    if rule is None:  # a route without a rule is a programming error: refuse rather than guess
        raise Forbidden(f"the route {handler.name or handler} declares no access rule")
    principal = principal_of(connection)
    if isinstance(principal, Admin):
        return
    tenant_id = connection.path_params.get("tenant_id")
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise NotFound(f"no tenant {tenant_id}")
    if isinstance(rule, AdminRule):
        raise Forbidden("only the admin token may do this")
    if not allows(principal.scopes, rule):
        raise Forbidden(f"this API key lacks the scope {rule.value!r}")


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


def actor_of(principal: Principal) -> str:
    """Who did it, for the audit log: ``admin`` or ``api_key:<key id>``."""
    return ADMIN if isinstance(principal, Admin) else key_actor(principal.key_id)


def only_tenant(principal: Principal) -> uuid.UUID | None:
    """The one tenant a tenant key sees in lists (``None``: the admin token sees every tenant)."""
    return principal.tenant_id if isinstance(principal, TenantKey) else None
