"""A tenant's access in the console: an onboarding link to send its admin (or a relink link to repair the
integration), API keys (created and shown once, revoked) and secrets (set or replaced, never shown). Each is in
the audit log; a bad value is shown beside its field."""

from __future__ import annotations

import re
import uuid
from typing import Any, Final

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, session_of
from api.console.tenant_pages import NAME_MAX, tenant_page
from core.permissions import Scope

SECRET_NAME: Final = re.compile(r"^[a-z0-9_.-]{1,100}$")
SECRET_MAX: Final = 10_000
EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+$")


@post("/tenants/{tenant_id:uuid}/connect-link", include_in_schema=False, status_code=200)
async def connect_link(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[str]:
    session = session_of(request)
    email = (await request.form()).get("end_user_email", "").strip()
    if not EMAIL.match(email) or len(email) > 320:  # noqa: PLR2004 - the longest email address
        errors = {"end_user_email": "Give the email address of the customer's admin."}
        return await tenant_page(
            request, gateway, tenant_id, errors=errors, values={"end_user_email": email}, status=422
        )
    # The customer's admin gets our onboarding page (it names the vendor and the tenant, starts Kombo Connect and
    # says when the ATS is connected), not Kombo's bare link; issuing it checks the tenant and audits it.
    issued = await gateway.onboarding.links.issue(tenant_id, end_user_email=email, actor=session.actor)
    return await tenant_page(request, gateway, tenant_id, connect_link=issued.url, link_expires_at=issued.expires_at)


@post("/tenants/{tenant_id:uuid}/relink-link", include_in_schema=False, status_code=200)
async def relink_link(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A link that repairs the integration's credentials (the binding service audits it)."""
    session = session_of(request)
    tenant = await gateway.administration.visible(tenant_id)
    link = await gateway.binding.relink(tenant, actor=session.actor)
    return await tenant_page(request, gateway, tenant_id, connect_link=link)


@post("/tenants/{tenant_id:uuid}/api-keys", include_in_schema=False, status_code=200)
async def create_key(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[str]:
    session = session_of(request)
    form = await request.form()
    name = form.get("key_name", "").strip()
    chosen = form.getall("scopes", [])
    errors = {}
    if not name or len(name) > NAME_MAX:
        errors["key_name"] = f"Name the key (1 to {NAME_MAX} characters)."
    scopes = frozenset(Scope(s) for s in chosen if s in set(Scope))
    if not scopes:
        errors["key_name"] = errors.get("key_name", "") + " Choose at least one scope."
    if errors:
        return await tenant_page(request, gateway, tenant_id, errors=errors, values={"key_name": name}, status=422)
    await gateway.administration.visible(tenant_id)
    minted = await gateway.api_keys.mint(tenant_id, name, scopes, actor=session.actor, minted_by=None)
    return await tenant_page(request, gateway, tenant_id, new_key=minted)


@post("/tenants/{tenant_id:uuid}/api-keys/{key_id:uuid}/revoke", include_in_schema=False, status_code=303)
async def revoke_key(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    tenant_id: FromPath[uuid.UUID],
    key_id: FromPath[uuid.UUID],
) -> Response[Any]:
    session = session_of(request)
    await gateway.api_keys.revoke(tenant_id, key_id, actor=session.actor)
    return Redirect(f"{PREFIX}/tenants/{tenant_id}?done=revoked#keys", status_code=303, headers=HEADERS)


@post("/tenants/{tenant_id:uuid}/secrets", include_in_schema=False, status_code=303)
async def set_secret(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[Any]:
    session = session_of(request)
    form = await request.form()
    name, value = form.get("secret_name", "").strip(), form.get("secret_value", "")
    errors = {}
    if not SECRET_NAME.match(name):
        errors["secret_name"] = "Use 1 to 100 lower-case letters, digits, dots, dashes or underscores."  # noqa: S105
    if not value or len(value) > SECRET_MAX:
        errors["secret_value"] = f"Give the value (1 to {SECRET_MAX} characters)."
    if errors:  # the value is never sent back, not even to the page that refused it
        return await tenant_page(request, gateway, tenant_id, errors=errors, values={"secret_name": name}, status=422)
    await gateway.administration.visible(tenant_id)
    await gateway.administration.put_secret(tenant_id, name, value, actor=session.actor)
    return Redirect(f"{PREFIX}/tenants/{tenant_id}?done=secret_set#secrets", status_code=303, headers=HEADERS)
