"""Orders in the console: every tenant's, filtered by tenant, status (``needs_attention`` among them), package
and date; one order with its timeline, the submitted result and Kombo's answers; a retry of its failed
write-back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, page, session_of
from core.errors import Conflict, PayloadInvalid
from core.order_status import OrderStatus
from orders.queries import OrderFilter

PAGE_SIZE: Final = 50
Text = Annotated[str, QueryParameter(max_length=200)]


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """The list's filters as the form sent them ("" is "any")."""

    tenant: str = ""
    status: str = ""
    package: str = ""
    created_from: str = ""
    created_to: str = ""


def _day(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise PayloadInvalid(f"{name} is not a date (YYYY-MM-DD)", path=name) from None


def _day_after(day: datetime | None) -> datetime | None:
    if day is None:
        return None
    try:
        return day + timedelta(days=1)
    except OverflowError:  # 9999-12-31: every order is before it
        return None


def narrowed(filters: Filters) -> tuple[uuid.UUID | None, OrderFilter]:
    """The tenant and the filter the list asks the order queries for; a bad value is a 400 page naming it."""
    try:
        tenant = uuid.UUID(filters.tenant) if filters.tenant else None
    except ValueError:
        raise PayloadInvalid("tenant is not a tenant id", path="tenant") from None
    if filters.status and filters.status not in set(OrderStatus):
        raise PayloadInvalid(f"no status {filters.status!r}", path="status")
    until = _day(filters.created_to, "created_to")
    return tenant, OrderFilter(
        status=filters.status or None,
        package_id=filters.package or None,
        created_from=_day(filters.created_from, "created_from"),
        created_to=_day_after(until),  # the day given is included
    )


@get("/orders", include_in_schema=False)
async def order_list(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    *,
    tenant: Text = "",
    status: Text = "",
    package: Text = "",
    created_from: Text = "",
    created_to: Text = "",
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Response[str]:
    filters = Filters(
        tenant=tenant.strip(),
        status=status,
        package=package.strip(),
        created_from=created_from,
        created_to=created_to,
    )
    tenant_id, order_filter = narrowed(filters)
    found, next_cursor = await gateway.orders.page(tenant_id, order_filter, cursor=cursor, limit=PAGE_SIZE)
    return page(
        request,
        "orders.html",
        title="Orders",
        orders=found,
        filters=filters,
        statuses=[str(s) for s in OrderStatus],
        next_cursor=next_cursor,
        first_page=cursor is None,
    )


@get("/orders/{order_id:uuid}", include_in_schema=False)
async def order_detail(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], order_id: FromPath[uuid.UUID]
) -> Response[str]:
    found = await gateway.orders.detail_of_any(order_id)
    result, job = await gateway.orders.latest_result_and_job(order_id)
    body = msgspec.json.format(result.body.encode(), indent=2).decode() if result else ""
    return page(
        request,
        "order.html",
        title=f"Order {found.record.kombo_order_id}",
        order=found.record,
        order_json=msgspec.json.format(found.record.order_json.encode(), indent=2).decode(),
        timeline=[(entry, msgspec.json.encode(entry.detail).decode()) for entry in found.timeline],
        result=result,
        result_body=body,
        job=job,
    )


@post("/orders/{order_id:uuid}/retry-write-back", include_in_schema=False, status_code=303)
async def retry_write_back(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], order_id: FromPath[uuid.UUID]
) -> Response[Any]:
    session = session_of(request)
    job = await gateway.orders.write_back_job(order_id)
    if job is None:
        raise Conflict("this order has no write-back to retry")
    retried = await gateway.jobs.retry(job.id)
    tenant = uuid.UUID(retried.tenant_id) if retried.tenant_id else None
    await gateway.administration.note(tenant, actor=session.actor, action="write_back.retried", detail=str(order_id))
    return Redirect(f"{PREFIX}/orders/{order_id}?done=write_back_retried", status_code=303, headers=HEADERS)
