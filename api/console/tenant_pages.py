"""Tenants in the console: the list (searchable), creating one, and a tenant's page (integration state, its
connect link, catalog state, API keys, secret names, recent events). Changing its keys, secrets, catalog and
adapters has modules of its own (``tenant_access``, ``tenant_catalog``, ``tenant_adapters``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, page, session_of
from core.kombo.vocabulary import IntegrationState
from core.permissions import DEFAULT_SCOPES, Scope

PAGE_SIZE: Final = 50
NAME_MAX: Final = 200
EVENTS_SHOWN: Final = 20


@get("/tenants", include_in_schema=False)
async def tenant_list(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    q: Annotated[str, QueryParameter(max_length=200)] = "",
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Response[str]:
    return await _list_page(request, gateway, search=q.strip(), cursor=cursor)


async def _list_page(
    request: Request[Any, Any, Any],
    gateway: Gateway,
    *,
    search: str = "",
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    found, next_cursor = await gateway.administration.page(
        cursor=cursor, limit=PAGE_SIZE, only=None, search=search or None
    )
    return page(
        request,
        "tenants.html",
        status=status,
        title="Tenants",
        tenants=found,
        q=search,
        next_cursor=next_cursor,
        first_page=cursor is None,
        errors=errors or {},
        values=values or {},
    )


@post("/tenants", include_in_schema=False, status_code=303)
async def create_tenant(request: Request[Any, Any, Any], gateway: NamedDependency[Gateway]) -> Response[Any]:
    session = session_of(request)
    form = await request.form()
    name, external_id = form.get("name", "").strip(), form.get("external_id", "").strip()
    errors = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = f"Give the tenant a name (1 to {NAME_MAX} characters)."
    if len(external_id) > NAME_MAX:
        errors["external_id"] = f"At most {NAME_MAX} characters."
    if errors:
        values = {"name": name, "external_id": external_id}
        return await _list_page(request, gateway, errors=errors, values=values, status=422)
    tenant = await gateway.administration.create(name=name, external_id=external_id or None, actor=session.actor)
    return Redirect(f"{PREFIX}/tenants/{tenant.id}?done=created", status_code=303, headers=HEADERS)


async def tenant_page(
    request: Request[Any, Any, Any], gateway: Gateway, tenant_id: uuid.UUID, **extra: Any
) -> Response[str]:
    """The tenant's page; ``extra`` adds what an action just produced (a link, a new key shown once, errors)."""
    tenant = await gateway.administration.visible(tenant_id)
    shown: dict[str, Any] = {"errors": {}, "values": {}, "connect_link": "", "link_expires_at": None}
    extra = shown | {"new_key": None} | extra
    return page(
        request,
        "tenant.html",
        status=extra.pop("status", 200),
        title=tenant.name,
        tenant=tenant,
        relink=tenant.integration_state == IntegrationState.INVALID,
        catalog=await gateway.catalog_administration.of_tenant(tenant.id),
        keys=await gateway.api_keys.of_tenant(tenant.id),
        secret_names=await gateway.administration.secret_names(tenant.id),
        events=await gateway.administration.events(tenant.id, limit=EVENTS_SHOWN),
        scopes=[str(s) for s in Scope],
        default_scopes={str(s) for s in DEFAULT_SCOPES},
        **extra,
    )


@get("/tenants/{tenant_id:uuid}", include_in_schema=False)
async def tenant_detail(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[str]:
    return await tenant_page(request, gateway, tenant_id)
