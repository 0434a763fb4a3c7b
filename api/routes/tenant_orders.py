"""A tenant's orders: list them, read one with its timeline, submit its result, upload attachments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post, put
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from api.bodies import RESULT_BODY
from api.body_guard import RAW_BODY
from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.errors import FieldError, ValidationFailed
from core.file_names import content_type_problem, upload_name_problem
from core.kombo import OrderReceivedData
from core.order_status import OrderStatus
from core.permissions import Scope
from core.tenants import Tenant
from orders.queries import OrderFilter
from orders.result_submission import Submitted
from orders.result_uploads import Upload
from orders.store import OrderRecord, TimelineEntry

#: An order as routes name it: the gateway's id (a UUID) or Kombo's order id.
OrderRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class OrderOut(msgspec.Struct, kw_only=True):
    #: The gateway's id; every order route also takes ``kombo_order_id`` in its place.
    id: uuid.UUID
    kombo_order_id: str
    package_id: str
    package_type: str | None
    inline: bool
    status: OrderStatus
    adapter: str | None
    rejection_message: str | None
    assessment_url: str | None
    source: str
    candidate_email: str
    created_at: datetime
    updated_at: datetime


class OrderFull(OrderOut, kw_only=True):
    #: The order as Kombo sent it: candidate, application, job, hiring team, remote fields. After the retention
    #: period the candidate's name, email and phone are erased from it, and ``personal_data_erased_at`` says when.
    order: dict[str, Any]
    personal_data_erased_at: datetime | None


class OrderDetail(OrderFull, kw_only=True):
    timeline: list[TimelineEntry]


class OrderPage(msgspec.Struct, kw_only=True):
    items: list[OrderOut]
    next_cursor: str | None


class OrderChanges(msgspec.Struct, kw_only=True):
    #: Orders created or changed since the cursor, oldest change first (each whole, as in the detail).
    items: list[OrderFull]
    #: Always set: keep it and pass it next time to get what changed since.
    next_cursor: str


def order_out(record: OrderRecord) -> OrderOut:
    data = msgspec.json.decode(record.order_json, type=OrderReceivedData)
    return OrderOut(
        id=record.id,
        kombo_order_id=record.kombo_order_id,
        package_id=record.package_id,
        package_type=record.package_type,
        inline=record.inline,
        status=OrderStatus(record.state),
        adapter=record.adapter,
        rejection_message=record.rejection_message,
        assessment_url=record.assessment_url,
        source=record.source,
        candidate_email=data.candidate.email,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def order_full(record: OrderRecord) -> OrderFull:
    return OrderFull(
        **msgspec.structs.asdict(order_out(record)),
        order=msgspec.json.decode(record.order_json),
        personal_data_erased_at=record.pii_purged_at,
    )


class TenantOrdersController(TenantController):
    tags = ["orders"]  # noqa: RUF012 - Litestar's own attribute

    @get(
        "/{tenant_id:uuid}/orders",
        summary="The tenant's orders, newest first",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.ORDERS_READ},
    )
    async def list_orders(
        self,
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        *,
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        package_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        created_from: Annotated[datetime | None, QueryParameter()] = None,
        created_to: Annotated[datetime | None, QueryParameter()] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> OrderPage:
        narrowed = OrderFilter(status=status, package_id=package_id, created_from=created_from, created_to=created_to)
        page, next_cursor = await gateway.orders.page(tenant.id, narrowed, cursor=cursor, limit=limit)
        return OrderPage(items=[order_out(o) for o in page], next_cursor=next_cursor)

    @get(
        "/{tenant_id:uuid}/orders/changes",
        summary="Orders created or changed since a cursor you keep (poll it; each order whole)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.ORDERS_READ},
    )
    async def order_changes(
        self,
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> OrderChanges:
        found, next_cursor = await gateway.orders.changes(tenant.id, cursor=cursor, limit=limit)
        return OrderChanges(items=[order_full(o) for o in found], next_cursor=next_cursor)

    @get(
        "/{tenant_id:uuid}/orders/{order_id:str}",
        summary="One order, whole, with its timeline (the gateway's id or Kombo's order id)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.ORDERS_READ},
    )
    async def get_order(
        self,
        gateway: NamedDependency[Gateway],
        tenant_id: FromPath[uuid.UUID],  # the order's read checks the tenant (no ``tenant`` dependency, one query less)
        order_id: FromPath[OrderRef],
    ) -> OrderDetail:
        found = await gateway.orders.detail(tenant_id, order_id)
        return OrderDetail(**msgspec.structs.asdict(order_full(found.record)), timeline=found.timeline)

    @put(
        "/{tenant_id:uuid}/orders/{order_id:str}/result",
        status_code=202,
        summary="Submit the order's result (Kombo's result body); it is written back to the ATS in the background",
        responses=problem_responses(401, 403, 404, 409, 422),
        opt={"access": Scope.RESULTS_WRITE},
    )
    async def submit_result(
        self,
        *,
        gateway: NamedDependency[Gateway],
        tenant_id: FromPath[uuid.UUID],  # as in ``get_order``: the order's read checks the tenant
        order_id: FromPath[OrderRef],
        # Plain JSON, checked by core/result_rules.py (one 422 names every broken field); documented as the result body.
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.JSON, schema_extra=RESULT_BODY)],
    ) -> Submitted:
        record = await gateway.orders.resolve(tenant_id, order_id)
        return await gateway.results.submit_for(record, data)

    @post(
        "/{tenant_id:uuid}/uploads",
        summary="Upload a file to attach to a result (body: the file)",
        responses=problem_responses(401, 403, 404, 422),
        opt={"access": Scope.RESULTS_WRITE, RAW_BODY: True},  # a file: never read as JSON, whatever its type
    )
    async def upload(
        self,
        *,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        name: Annotated[str, QueryParameter(min_length=1, max_length=300)],
    ) -> Upload:
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
        return await gateway.uploads.receive(tenant.id, name, content_type, request.stream())
