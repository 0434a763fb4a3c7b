"""Webhooks in the console: Kombo's recent deliveries and what we answered, the failures this process counted
(bad signatures, malformed bodies: never recorded, as nothing in them can be trusted), and the orders held
because no tenant holds their integration yet, with a form that binds it to one."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect

from api.composition import Gateway
from api.console.overview import webhook_failures
from api.console.pages import HEADERS, PREFIX, page, session_of
from integrations.webhook_events import IntakeMetrics

PAGE_SIZE: Final = 50
Cursor = Annotated[str | None, QueryParameter(max_length=200)]


async def _webhooks_page(
    request: Request[Any, Any, Any],
    gateway: Gateway,
    metrics: IntakeMetrics,
    *,
    cursor: str | None = None,
    held: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    deliveries, next_cursor = await gateway.webhook_events.recent(cursor=cursor, limit=PAGE_SIZE)
    unrouted, next_held = await gateway.orders.unrouted(cursor=held, limit=PAGE_SIZE)
    return page(
        request,
        "webhooks.html",
        status=status,
        title="Webhooks",
        deliveries=deliveries,
        next_cursor=next_cursor,
        first_page=cursor is None,
        unrouted=unrouted,
        next_held=next_held,
        failures=webhook_failures(metrics),
        errors=errors or {},
    )


@get("/webhooks", include_in_schema=False)
async def webhooks(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    intake_metrics: NamedDependency[IntakeMetrics],
    cursor: Cursor = None,
    held: Cursor = None,
) -> Response[str]:
    return await _webhooks_page(request, gateway, intake_metrics, cursor=cursor, held=held)


@post("/webhooks/bind", include_in_schema=False, status_code=303)
async def bind_integration(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], intake_metrics: NamedDependency[IntakeMetrics]
) -> Response[Any]:
    """Bind an unrouted order's integration to a tenant (the integration must be that tenant's: Kombo's
    ``origin_id`` names it, ``integrations/binding.py``); its held orders are then taken in."""
    session = session_of(request)
    form = await request.form()
    integration = form.get("integration_id", "")
    try:
        tenant_id = uuid.UUID(form.get("tenant_id", "").strip())
    except ValueError:
        errors = {integration: "Give the id of the tenant this integration belongs to."}
        return await _webhooks_page(request, gateway, intake_metrics, errors=errors, status=422)
    await gateway.binding.bind(tenant_id, integration, actor=session.actor, owner_only=False)
    return Redirect(f"{PREFIX}/webhooks?done=bound", status_code=303, headers=HEADERS)
