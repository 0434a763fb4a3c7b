"""Kombo's API as the sandbox serves it (under ``/v1``): thin handlers over ``Sandbox``."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromHeader, FromPath, FromQuery
from litestar.types import ControllerRouterHandler

from sandbox.integration_views import integration_details
from sandbox.schema import EmptyBody, decode
from sandbox.service import Sandbox


def ok(data: Any, *, warnings: list[dict[str, str]] | None = None) -> Response[bytes]:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings is not None:
        body["warnings"] = warnings
    return Response(msgspec.json.encode(body), media_type="application/json")


Auth = FromHeader[str | None]


@get("/check-api-key")
async def check_api_key(sandbox: NamedDependency[Sandbox], authorization: Auth = None) -> Response[bytes]:
    await sandbox.gate(authorization, "GET /check-api-key")
    return ok({"environment_id": "sandbox-environment", "customer_id": "sandbox-environment"})


@post("/connect/create-link", status_code=200)
async def create_link(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "POST /connect/create-link")
    return ok({"link": await sandbox.create_link(await request.body())})


@get("/connect/integration-by-token/{token:str}")
async def integration_by_token(
    sandbox: NamedDependency[Sandbox], token: FromPath[str], authorization: Auth = None
) -> Response[bytes]:
    await sandbox.gate(authorization, "GET /connect/integration-by-token/{token}")
    return ok(sandbox.integration_by_token(unquote(token)))


@get("/integrations/{integration_id:str}")
async def get_integration(
    sandbox: NamedDependency[Sandbox], integration_id: FromPath[str], authorization: Auth = None
) -> Response[bytes]:
    await sandbox.gate(authorization, "GET /integrations/{integration_id}")
    return ok(integration_details(sandbox.integration(unquote(integration_id))))


@delete("/integrations/{integration_id:str}", status_code=200)
async def delete_integration(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration_id: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "DELETE /integrations/{integration_id}")
    integration = sandbox.integration(unquote(integration_id))
    decode(await request.body(), EmptyBody, reject_unknown=sandbox.settings.reject_unknown_fields, empty_ok=True)
    await sandbox.delete_integration(integration)
    return ok({})


@post("/integrations/{integration_id:str}/relink", status_code=200)
async def relink(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration_id: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "POST /integrations/{integration_id}/relink")
    return ok({"link": await sandbox.create_link(await request.body(), relink_of=unquote(integration_id))})


@put("/assessment/packages")
async def put_packages(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "PUT /assessment/packages")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    await sandbox.put_packages(integration, await request.body())
    return ok({}, warnings=[])


@get("/assessment/packages")
async def get_packages(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "GET /assessment/packages")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    return ok({"packages": sandbox.list_packages(integration)})


@get("/assessment/orders")
async def get_orders(
    request: Request[Any, Any, Any],
    sandbox: NamedDependency[Sandbox],
    *,
    cursor: FromQuery[str | None] = None,
    page_size: FromQuery[str | None] = None,
    ids: FromQuery[str | None] = None,
    statuses: FromQuery[str | None] = None,
    created_after: FromQuery[str | None] = None,
) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "GET /assessment/orders")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    page = sandbox.list_orders(
        integration, cursor=cursor, page_size=page_size, ids=ids, statuses=statuses, created_after=created_after
    )
    return ok(page)


@get("/assessment/orders/open")
async def get_open_orders(
    request: Request[Any, Any, Any],
    sandbox: NamedDependency[Sandbox],
    cursor: FromQuery[str | None] = None,
    page_size: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Deprecated by Kombo, still served: OPEN orders only, without the ``status`` key."""
    await sandbox.gate(request.headers.get("authorization"), "GET /assessment/orders/open")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    page = sandbox.list_orders(
        integration, cursor=cursor, page_size=page_size, ids=None, statuses=None, created_after=None, open_only=True
    )
    return ok(page)


@put("/assessment/orders/{assessment_order_id:str}/result")
async def put_result(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], assessment_order_id: FromPath[str]
) -> Response[bytes]:
    await sandbox.gate(request.headers.get("authorization"), "PUT /assessment/orders/{id}/result")
    integration = sandbox.usable_integration(request.headers.get("x-integration-id"))
    warnings = await sandbox.put_result(integration, unquote(assessment_order_id), await request.body())
    return ok({}, warnings=warnings)


def kombo_router(*more: ControllerRouterHandler) -> Router:
    """Kombo's API at ``/v1``: the assessment flow here, plus ``more`` (``sandbox.general_api``)."""
    return Router(
        path="/v1",
        route_handlers=[
            check_api_key,
            create_link,
            integration_by_token,
            get_integration,
            delete_integration,
            relink,
            put_packages,
            get_packages,
            get_orders,
            get_open_orders,
            put_result,
            *more,
        ],
        include_in_schema=False,
    )
