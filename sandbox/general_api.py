"""Routes for Kombo's general operations beyond the assessment flow, and the ``/v1`` fallback.

Every path the SDK can call answers in Kombo's envelope; so does any other path under ``/v1`` (the
fallback), never the web framework's own 404 (which is problem+json inside the gateway).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from litestar import Request, Response, get, patch, post, put, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler

from sandbox import general
from sandbox.errors import KomboApiError
from sandbox.kombo_api import ok
from sandbox.service import Sandbox

ANY_METHOD = [HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE]


def _auth(request: Request[Any, Any, Any]) -> str | None:
    return request.headers.get("authorization")


@put("/integrations/{integration_id:str}/enabled")
async def set_enabled(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration_id: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "PUT /integrations/{integration_id}/enabled")
    await general.set_enabled(sandbox, sandbox.integration(unquote(integration_id)), await request.body())
    return ok({})


@get("/tools/{category:str}")
async def tools(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], category: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "GET /tools/{category}")
    return ok({"tools": general.tools(sandbox, unquote(category))})


@post("/force-sync", status_code=200)
async def force_sync(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    await sandbox.gate(_auth(request), "POST /force-sync")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    general.force_sync(sandbox, integration, await request.body())


@post("/passthrough/{tool:str}/{api:str}", status_code=200)
async def passthrough(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], tool: FromPath[str], api: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "POST /passthrough/{tool}/{api}")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    general.passthrough(sandbox, integration, unquote(tool), unquote(api), await request.body())


@post("/integrations/{integration_id:str}/setup-link", status_code=200)
async def setup_link(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration_id: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "POST /integrations/{integration_id}/setup-link")
    general.setup_link(sandbox, sandbox.integration(unquote(integration_id)), await request.body())


@get("/integrations/{integration_id:str}/integration-fields")
async def integration_fields(
    request: Request[Any, Any, Any],
    sandbox: NamedDependency[Sandbox],
    integration_id: FromPath[str],
    cursor: FromQuery[str | None] = None,
    page_size: FromQuery[str | None] = None,
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "GET /integrations/{integration_id}/integration-fields")
    sandbox.integration(unquote(integration_id))
    return ok(general.empty_page(cursor, page_size))


@patch("/integrations/{integration_id:str}/integration-fields/{field_id:str}")
async def update_integration_field(
    request: Request[Any, Any, Any],
    sandbox: NamedDependency[Sandbox],
    integration_id: FromPath[str],
    field_id: FromPath[str],
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "PATCH /integrations/{integration_id}/integration-fields/{id}")
    sandbox.integration(unquote(integration_id))
    general.update_integration_field(sandbox, unquote(field_id), await request.body())


@get("/integrations/{integration_id:str}/custom-fields")
async def custom_fields(
    request: Request[Any, Any, Any],
    sandbox: NamedDependency[Sandbox],
    integration_id: FromPath[str],
    cursor: FromQuery[str | None] = None,
    page_size: FromQuery[str | None] = None,
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "GET /integrations/{integration_id}/custom-fields")
    sandbox.integration(unquote(integration_id))
    return ok(general.empty_page(cursor, page_size))


@put("/integrations/{integration_id:str}/custom-fields/{field_id:str}")
async def update_custom_field(
    request: Request[Any, Any, Any],
    sandbox: NamedDependency[Sandbox],
    integration_id: FromPath[str],
    field_id: FromPath[str],
) -> Response[bytes]:
    await sandbox.gate(_auth(request), "PUT /integrations/{integration_id}/custom-fields/{id}")
    sandbox.integration(unquote(integration_id))
    general.update_custom_field(sandbox, unquote(field_id), await request.body())


async def _fallback(request: Request[Any, Any, Any], sandbox: Sandbox, rest: str) -> Response[bytes]:
    """ATS and HRIS models are not available on an assessment integration; other paths do not exist."""
    path = "/" + rest.lstrip("/")
    await sandbox.gate(_auth(request), f"{request.method} {path}")
    if path.startswith(("/ats/", "/hris/")):
        integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
        raise general.model_not_available(sandbox, integration, path)
    raise KomboApiError(
        sandbox.settings.unknown_endpoint_status,
        "PLATFORM.INPUT_INVALID",
        f"Kombo has no endpoint {request.method} /v1{path}.",
    )


@route("/{rest:path}", http_method=ANY_METHOD, status_code=200)
async def fallback(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], rest: FromPath[str]
) -> Response[bytes]:
    return await _fallback(request, sandbox, rest)


@route("/", http_method=ANY_METHOD, status_code=200)
async def fallback_root(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    return await _fallback(request, sandbox, "/")


GENERAL_HANDLERS: list[ControllerRouterHandler] = [
    set_enabled,
    tools,
    force_sync,
    passthrough,
    setup_link,
    integration_fields,
    update_integration_field,
    custom_fields,
    update_custom_field,
    fallback,
    fallback_root,
]
