"""The ATS-simulator page (server-rendered, no build step) and the Kombo Connect stand-in page."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromQuery
from litestar.response import Redirect

from sandbox.control import order_view
from sandbox.errors import input_invalid
from sandbox.service import Sandbox

TEMPLATES = Environment(loader=PackageLoader("sandbox", "templates"), autoescape=select_autoescape())


def html(name: str, **context: Any) -> Response[str]:
    return Response(TEMPLATES.get_template(name).render(**context), media_type=MediaType.HTML)  # adds the charset once


def base_of(request: Request[Any, Any, Any]) -> str:
    """The sandbox's mount path (empty standalone, ``/sandbox`` inside the gateway)."""
    return str(request.scope.get("root_path", "")) + str(request.app.state.get("sandbox_prefix", ""))


@get("/ui")
async def page(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], integration: FromQuery[str | None] = None
) -> Response[str]:
    integrations = list(sandbox.state.integrations.values())
    selected = sandbox.state.integrations.get(integration or "") or (integrations[-1] if integrations else None)
    return html(
        "page.html",
        base=base_of(request),
        integrations=integrations,
        selected=selected,
        packages=sandbox.list_packages(selected) if selected else [],
        orders=[order_view(o) for o in reversed(sandbox.state.orders_of(selected.id))] if selected else [],
    )


@post("/ui/integrations")
async def ui_add_integration(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Redirect:
    form = await request.form()
    integration = await sandbox.create_integration(
        organization_name=str(form.get("organization_name") or "Sandbox Customer"),
        origin_id=str(form.get("origin_id") or "") or None,
    )
    return Redirect(f"{base_of(request)}/_sandbox/ui?integration={integration.id}", status_code=303)


@post("/ui/orders")
async def ui_place_order(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Redirect:
    form = await request.form()
    integration = sandbox.integration(str(form.get("integration_id", "")))
    email = str(form.get("email", "")).strip()
    if not email:
        raise input_invalid("A candidate email is required.")
    await sandbox.place_order(
        integration,
        package_id=str(form.get("package_id", "")),
        candidate={
            "email": email,
            "first_name": str(form.get("first_name") or "") or None,
            "last_name": str(form.get("last_name") or "") or None,
        },
        job={"remote_id": "job-1", "name": "Sandbox Engineer", "job_code": "SBX-1"},
        inline=form.get("inline") == "1",
    )
    return Redirect(f"{base_of(request)}/_sandbox/ui?integration={integration.id}", status_code=303)


@get("/connect")
async def connect_page(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], token: FromQuery[str]
) -> Response[str]:
    link = sandbox.state.links.get(token)
    if link is None:
        raise input_invalid("Unknown or expired connect link.")
    return html(
        "connect.html",
        base=base_of(request),
        organization=link.organization_name,
        email=link.end_user_email,
        link_token=token,
        relink=link.relink_of is not None,
        done=False,
    )


@post("/connect")
async def connect_submit(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[str]:
    form = await request.form()
    integration, token = await sandbox.complete_link(str(form.get("token", "")))
    return html(
        "connect.html",
        base=base_of(request),
        organization=integration.organization_name,
        integration_id=integration.id,
        token=token,
        done=True,
    )


def ui_router() -> Router:
    return Router(
        path="/_sandbox",
        route_handlers=[page, ui_add_integration, ui_place_order, connect_page, connect_submit],
        include_in_schema=False,
    )
