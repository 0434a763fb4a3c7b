"""The sandbox's control API (``/_sandbox``): act as the ATS and the customer, inject faults, inspect state.

No authentication: the sandbox is a development tool bound to loopback (see docs/sandbox.md).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from core.errors import PayloadInvalid
from core.kombo import decode_json
from sandbox.errors import input_invalid
from sandbox.faults import FaultRule
from sandbox.service import Sandbox
from sandbox.state import Integration, OrderRecord


class NewIntegration(msgspec.Struct, kw_only=True):
    organization_name: str = "Sandbox Customer"
    origin_id: str | None = None
    creator_email: str | None = None


class CandidateIn(msgspec.Struct, kw_only=True):
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    remote_id: str | None = None


class NewOrder(msgspec.Struct, kw_only=True):
    package_id: str
    candidate: CandidateIn
    job: dict[str, Any] | None = None
    inline: bool = False


class NewState(msgspec.Struct, kw_only=True):
    state: str


def as_json(value: Any, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(value), media_type="application/json", status_code=status)


def integration_view(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id,
        "tool": integration.tool,
        "organization_name": integration.organization_name,
        "origin_id": integration.origin_id,
        "status": integration.status,
    }


def order_view(order: OrderRecord) -> dict[str, Any]:
    return {
        **order.wire(with_integration=True),
        "inline": order.inline,
        "created_at": order.created_at,
        "rejection_message": order.rejection_message,
        "assessment_url": order.assessment_url,
        "webhook_outcome": order.webhook_outcome,
        "result": msgspec.to_builtins(order.result) if order.result else None,
        "result_count": len(order.results),
        "attachments": [dict(a.__dict__) for a in order.attachments],
    }


async def _body(request: Request[Any, Any, Any], type_: type[Any]) -> Any:
    try:
        return decode_json(await request.body(), type_)
    except PayloadInvalid as exc:
        raise input_invalid(exc.message) from None


@get("/state")
async def state(sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    return as_json(
        {
            "integrations": [integration_view(i) for i in sandbox.state.integrations.values()],
            "orders": [order_view(o) for o in sorted(sandbox.state.orders.values(), key=lambda o: o.seq)],
            "deliveries": [d.__dict__ for d in sandbox.state.deliveries],
            "faults": [msgspec.to_builtins(r) for r in sandbox.faults.rules],
        }
    )


@post("/integrations")
async def add_integration(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    spec: NewIntegration = await _body(request, NewIntegration)
    integration = await sandbox.create_integration(
        organization_name=spec.organization_name, origin_id=spec.origin_id, creator_email=spec.creator_email
    )
    return as_json(integration_view(integration), 201)


@post("/integrations/{integration_id:str}/state", status_code=200)
async def set_state(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration_id: FromPath[str]
) -> Response[bytes]:
    spec: NewState = await _body(request, NewState)
    integration = sandbox.integration(integration_id)
    await sandbox.set_state(integration, spec.state)
    return as_json(integration_view(integration))


@post("/integrations/{integration_id:str}/orders")
async def place_order(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration_id: FromPath[str]
) -> Response[bytes]:
    spec: NewOrder = await _body(request, NewOrder)
    order = await sandbox.place_order(
        sandbox.integration(integration_id),
        package_id=spec.package_id,
        candidate=msgspec.to_builtins(spec.candidate),
        job=spec.job,
        inline=spec.inline,
    )
    return as_json(order_view(order), 201)


@get("/orders/{order_id:str}")
async def get_order(sandbox: NamedDependency[Sandbox], order_id: FromPath[str]) -> Response[bytes]:
    order = sandbox.state.orders.get(order_id)
    if order is None:
        raise input_invalid(f"No order {order_id!r}.")
    return as_json(order_view(order))


@post("/faults")
async def add_fault(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    rule: FaultRule = await _body(request, FaultRule)
    return as_json(msgspec.to_builtins(sandbox.faults.add(rule)), 201)


@get("/faults")
async def list_faults(sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    return as_json([msgspec.to_builtins(r) for r in sandbox.faults.rules])


@delete("/faults", status_code=200)
async def clear_faults(sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    sandbox.faults.clear()
    return as_json({"cleared": True})


@post("/connect/{token:str}/complete", status_code=200)
async def complete_connect(sandbox: NamedDependency[Sandbox], token: FromPath[str]) -> Response[bytes]:
    integration, exchange_token = await sandbox.complete_link(token)
    return as_json({"integration": integration_view(integration), "token": exchange_token})


class Advance(msgspec.Struct, kw_only=True):
    seconds: float


@post("/time/advance", status_code=200)
async def advance_time(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    """Move the fault clock forward (a ``for_seconds`` outage ends without waiting for it)."""
    spec: Advance = await _body(request, Advance)
    sandbox.faults.offset_s += spec.seconds
    return as_json({"offset_s": sandbox.faults.offset_s})


@post("/reset", status_code=200)
async def reset(sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    await sandbox.reset()
    return as_json({"reset": True})


@post("/webhooks/drain", status_code=200)
async def drain_webhooks(sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    await sandbox.webhooks.drain()
    return as_json({"drained": True})


def control_router() -> Router:
    return Router(
        path="/_sandbox",
        route_handlers=[
            state,
            add_integration,
            set_state,
            place_order,
            get_order,
            add_fault,
            list_faults,
            clear_faults,
            complete_connect,
            advance_time,
            reset,
            drain_webhooks,
        ],
        include_in_schema=False,
    )
