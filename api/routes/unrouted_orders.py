"""Orders no tenant holds yet (their integration is not bound): listed for operators."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth import ADMIN_SECURITY, authorize
from api.composition import Gateway
from api.problems import problem_responses
from core.permissions import Admin


class UnroutedOrder(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kombo_order_id: str
    integration_id: str
    package_id: str
    created_at: datetime


class UnroutedPage(msgspec.Struct, kw_only=True):
    items: list[UnroutedOrder]
    next_cursor: str | None


@get(
    "/v1/orders/unrouted",
    tags=["orders"],
    summary="Orders held until their integration is bound (admin), oldest first",
    guards=[authorize],
    opt={"access": Admin.ONLY},
    security=ADMIN_SECURITY,
    responses=problem_responses(401, 403),
)
async def unrouted_orders(
    gateway: NamedDependency[Gateway],
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> UnroutedPage:
    page, next_cursor = await gateway.orders.unrouted(cursor=cursor, limit=limit)
    items = [
        UnroutedOrder(
            id=o.id,
            kombo_order_id=o.kombo_order_id,
            integration_id=o.integration_id,
            package_id=o.package_id,
            created_at=o.created_at,
        )
        for o in page
    ]
    return UnroutedPage(items=items, next_cursor=next_cursor)
