"""A tenant's orders: list them, read one with its timeline, submit its result, upload attachments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import SECURITY as SECURITY_REQUIREMENT
from api.auth import Principal, provide_principal, visible_tenant
from api.problems import problem_responses
from api.routes.tenants import decode_cursor, encode_cursor
from core.errors import FieldError, NotFound, ValidationFailed
from core.file_names import content_type_problem, upload_name_problem
from core.kombo import OrderReceivedData
from core.settings import Settings
from tenants.db import Database
from tenants.orders import OrderRecord, Orders, TimelineEntry
from tenants.repository import TenantRepository
from tenants.results import Results, Submitted, Upload
from tenants.worker import wall_clock_ms

OrderState = Literal["accepted", "rejected"]


class OrderOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kombo_order_id: str
    package_id: str
    package_type: str | None
    inline: bool
    status: str
    adapter: str | None
    rejection_message: str | None
    assessment_url: str | None
    source: str
    candidate_email: str
    created_at: datetime
    updated_at: datetime


class OrderDetail(OrderOut, kw_only=True):
    timeline: list[TimelineEntry]


class OrderPage(msgspec.Struct, kw_only=True):
    items: list[OrderOut]
    next_cursor: str | None


def order_out(record: OrderRecord) -> OrderOut:
    data = msgspec.json.decode(record.order_json, type=OrderReceivedData)
    return OrderOut(
        id=record.id,
        kombo_order_id=record.kombo_order_id,
        package_id=record.package_id,
        package_type=record.package_type,
        inline=record.inline,
        status=record.state,
        adapter=record.adapter,
        rejection_message=record.rejection_message,
        assessment_url=record.assessment_url,
        source=record.source,
        candidate_email=data.candidate.email,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


class TenantOrdersController(Controller):
    path = "/v1/tenants"
    tags = ["orders"]  # noqa: RUF012 - Litestar's own attribute
    security = SECURITY_REQUIREMENT
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012

    @get("/{tenant_id:uuid}/orders", summary="The tenant's orders, newest first", responses=problem_responses(401, 404))
    async def list_orders(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        *,
        status: Annotated[OrderState | None, QueryParameter()] = None,
        package_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        created_from: Annotated[datetime | None, QueryParameter()] = None,
        created_to: Annotated[datetime | None, QueryParameter()] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> OrderPage:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        after = decode_cursor(cursor) if cursor else None
        found = await Orders(db).list_orders(
            tenant_id,
            state=status,
            package_id=package_id,
            created_from=created_from,
            created_to=created_to,
            after=after,
            limit=limit + 1,
        )
        page = found[:limit]
        next_cursor = encode_cursor(page[-1]) if len(found) > limit else None
        return OrderPage(items=[order_out(o) for o in page], next_cursor=next_cursor)

    @get(
        "/{tenant_id:uuid}/orders/{order_id:uuid}",
        summary="One order with its timeline",
        responses=problem_responses(401, 404),
    )
    async def get_order(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        order_id: FromPath[uuid.UUID],
    ) -> OrderDetail:
        visible_tenant(principal, tenant_id)
        orders = Orders(db)
        record = await orders.get(order_id, tenant_id=tenant_id)
        if record is None:
            raise NotFound(f"no order {order_id}")
        return OrderDetail(**msgspec.structs.asdict(order_out(record)), timeline=await orders.timeline(record.id))

    @put(
        "/{tenant_id:uuid}/orders/{order_id:uuid}/result",
        status_code=202,
        summary="Submit the order's result (Kombo's result body); it is written back to the ATS in the background",
        responses=problem_responses(401, 404, 409, 422),
    )
    async def submit_result(
        self,
        *,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[dict[str, Any]],
    ) -> Submitted:
        visible_tenant(principal, tenant_id)
        return await Results(db, settings, wall_clock_ms).submit(tenant_id, order_id, data)

    @post(
        "/{tenant_id:uuid}/uploads",
        summary="Upload a file to attach to a result (body: the file)",
        responses=problem_responses(401, 404, 422),
    )
    async def upload(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        name: Annotated[str, QueryParameter(min_length=1, max_length=300)],
    ) -> Upload:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        errors = [
            FieldError(path=path, message=problem)
            for path, problem in (
                ("name", upload_name_problem(name)),
                ("content-type", content_type_problem(content_type)),
            )
            if problem is not None
        ]
        if errors:
            raise ValidationFailed(errors)
        return await Results(db, settings, wall_clock_ms).upload(tenant_id, name, content_type, await request.body())
