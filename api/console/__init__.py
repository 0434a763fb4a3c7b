"""The operator console (``/console``): server-rendered pages over the same services the API routes call.

One module per page (``overview``, ``order_pages``, ``job_pages``, ``tenant_pages`` with ``tenant_access``,
``tenant_catalog`` and ``tenant_adapters``, ``webhook_pages``, ``audit_log``), the login (``login``), the session
cookie and CSRF token (``session``), rendering, the guard and error pages (``pages``), and our own stylesheet and
script (``static``).
docs/console.md describes it.
"""

from __future__ import annotations

from litestar import Router

from api.console import (
    audit_log,
    job_pages,
    login,
    order_pages,
    overview,
    static,
    tenant_access,
    tenant_adapters,
    tenant_catalog,
    tenant_pages,
    webhook_pages,
)
from api.console.pages import ON_ERROR, PREFIX, require_session

HANDLERS = [
    login.login_page,
    login.login,
    login.logout,
    static.static_file,
    overview.overview,
    order_pages.order_list,
    order_pages.order_detail,
    order_pages.retry_write_back,
    job_pages.job_list,
    job_pages.change_matching,
    job_pages.change_job,
    tenant_pages.tenant_list,
    tenant_pages.create_tenant,
    tenant_pages.tenant_detail,
    tenant_access.connect_link,
    tenant_access.relink_link,
    tenant_access.create_key,
    tenant_access.revoke_key,
    tenant_access.set_secret,
    tenant_catalog.catalog_editor,
    tenant_catalog.catalog_change,
    tenant_adapters.adapters_page,
    tenant_adapters.set_routes,
    tenant_adapters.set_adapter_settings,
    webhook_pages.webhooks,
    webhook_pages.bind_integration,
    audit_log.audit_log,
]


def console_router() -> Router:
    """Every console page under ``/console``, behind the session guard, answering errors with pages."""
    return Router(
        path=PREFIX,
        route_handlers=HANDLERS,
        guards=[require_session],
        exception_handlers=ON_ERROR,
        include_in_schema=False,
    )
