"""A tenant's routes and adapter settings in the console: which adapter takes each package type (overriding
plugins.toml), and each adapter's settings for the tenant (JSON merged over plugins.toml's). Checked by the same
service as the API (``orders/adapter_setup.py``); each problem is shown beside its field."""

from __future__ import annotations

import uuid
from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, page, pretty_json, session_of
from core.errors import ValidationFailed
from core.plugins_file import ROUTE_KEYS

_OBJECT = msgspec.json.Decoder(dict[str, Any])
_NO_OVERRIDE: Final = ""


async def _adapters_page(
    request: Request[Any, Any, Any],
    gateway: Gateway,
    tenant_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    texts: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    tenant = await gateway.administration.visible(tenant_id)
    settings = await gateway.administration.adapter_settings(tenant_id)
    names = sorted(gateway.adapters.loaded)
    shown = {name: pretty_json(settings.get(name, {})) for name in names}
    return page(
        request,
        "adapters.html",
        status=status,
        title=f"{tenant.name}: routes and adapters",
        tenant=tenant,
        route_keys=sorted(ROUTE_KEYS),
        routes=await gateway.administration.routes(tenant_id),
        adapters=names,
        texts=shown | (texts or {}),
        errors=errors or {},
    )


@get("/tenants/{tenant_id:uuid}/adapters", include_in_schema=False)
async def adapters_page(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[str]:
    return await _adapters_page(request, gateway, tenant_id)


@post("/tenants/{tenant_id:uuid}/routes", include_in_schema=False, status_code=303)
async def set_routes(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[Any]:
    session = session_of(request)
    form = await request.form()
    routes = {key: form.get(f"route-{key}", "") for key in ROUTE_KEYS}
    routes = {key: name for key, name in routes.items() if name != _NO_OVERRIDE}
    await gateway.administration.visible(tenant_id)
    try:
        await gateway.adapter_setup.set_routes(tenant_id, routes, actor=session.actor)
    except ValidationFailed as failed:
        errors = {e.path.removeprefix("$.routes.").removeprefix("$.routes"): e.message for e in failed.errors}
        return await _adapters_page(
            request, gateway, tenant_id, errors={f"route-{k or 'all'}": v for k, v in errors.items()}, status=422
        )
    return Redirect(f"{PREFIX}/tenants/{tenant_id}/adapters?done=saved", status_code=303, headers=HEADERS)


@post("/tenants/{tenant_id:uuid}/adapters/{name:str}", include_in_schema=False, status_code=303)
async def set_adapter_settings(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    tenant_id: FromPath[uuid.UUID],
    name: FromPath[str],
) -> Response[Any]:
    session = session_of(request)
    text = (await request.form()).get("settings", "").strip() or "{}"
    await gateway.administration.visible(tenant_id)
    try:
        try:
            settings = _OBJECT.decode(text.encode())
        except msgspec.DecodeError:
            raise ValidationFailed([]) from None
        await gateway.adapter_setup.set_settings(tenant_id, name, settings, actor=session.actor)
    except ValidationFailed as failed:
        message = "; ".join(f"{e.path}: {e.message}" for e in failed.errors) or "This is not a JSON object."
        return await _adapters_page(
            request, gateway, tenant_id, errors={f"settings-{name}": message}, texts={name: text}, status=422
        )
    return Redirect(f"{PREFIX}/tenants/{tenant_id}/adapters?done=saved", status_code=303, headers=HEADERS)
