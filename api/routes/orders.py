"""Orders no tenant holds yet (their integration is not bound): listed for operators."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import get
from litestar.di import NamedDependency

from api.auth import ADMIN_SECURITY, authorize
from api.problems import problem_responses
from core.permissions import Admin
from tenants.db import Database
from tenants.orders import Orders


class UnroutedOrder(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kombo_order_id: str
    integration_id: str
    package_id: str
    created_at: datetime


@get(
    "/v1/orders/unrouted",
    tags=["orders"],
    summary="Orders held until their integration is bound (admin)",
    guards=[authorize],
    opt={"access": Admin.ONLY},
    security=ADMIN_SECURITY,
    responses=problem_responses(401, 403),
)
async def unrouted_orders(db: NamedDependency[Database]) -> list[UnroutedOrder]:
    return [
        UnroutedOrder(
            id=o.id,
            kombo_order_id=o.kombo_order_id,
            integration_id=o.integration_id,
            package_id=o.package_id,
            created_at=o.created_at,
        )
        for o in await Orders(db).all_unrouted()
    ]
