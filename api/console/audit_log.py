"""The audit log in the console: every entry (who, when, what, which tenant), newest first, page by page."""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.composition import Gateway
from api.console.pages import page

PAGE_SIZE: Final = 50


@get("/audit", include_in_schema=False)
async def audit_log(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Response[str]:
    entries, next_cursor = await gateway.administration.audit_page(cursor=cursor, limit=PAGE_SIZE)
    return page(
        request, "audit.html", title="Audit log", entries=entries, next_cursor=next_cursor, first_page=cursor is None
    )
