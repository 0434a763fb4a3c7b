"""A tenant's catalog in the console: edit its entries (JSON, as the API takes them), preview what would change
against what Kombo offers now, and save; a change that deletes more than the guard allows must be confirmed
(the same rule as the API's ``confirm_deletions``). Saving queues the push to Kombo."""

from __future__ import annotations

import uuid
from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, page, pretty_json, session_of
from core.catalog import PackageIn
from core.errors import Conflict, FieldError, ValidationFailed
from tenants.catalogs import CatalogPreview

MAX_PACKAGES: Final = 1000
_ENTRIES = msgspec.json.Decoder(list[PackageIn])


async def _editor(
    request: Request[Any, Any, Any],
    gateway: Gateway,
    tenant_id: uuid.UUID,
    *,
    text: str | None = None,
    errors: list[FieldError] | None = None,
    preview: CatalogPreview | None = None,
    needs_confirmation: bool = False,
    status: int = 200,
) -> Response[str]:
    tenant = await gateway.administration.visible(tenant_id)
    view = await gateway.catalog_administration.of_tenant(tenant_id)
    vendor = await gateway.catalog_administration.vendor()
    return page(
        request,
        "catalog.html",
        status=status,
        title=f"{tenant.name}: catalog",
        tenant=tenant,
        view=view,
        vendor=vendor.packages,
        text=text if text is not None else pretty_json(view.selection),
        errors=errors or [],
        preview=preview,
        needs_confirmation=needs_confirmation or (preview is not None and preview.needs_confirmation),
    )


@get("/tenants/{tenant_id:uuid}/catalog", include_in_schema=False)
async def catalog_editor(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[str]:
    return await _editor(request, gateway, tenant_id)


def _entries(text: str) -> list[PackageIn]:
    try:
        entries = _ENTRIES.decode(text.encode())
    except msgspec.ValidationError as exc:
        raise ValidationFailed([FieldError.of(exc)]) from None
    except msgspec.DecodeError:
        raise ValidationFailed([FieldError(path="$", message="this is not JSON: a list of packages")]) from None
    if len(entries) > MAX_PACKAGES:
        raise ValidationFailed([FieldError(path="$", message=f"at most {MAX_PACKAGES} packages")])
    return entries


@post("/tenants/{tenant_id:uuid}/catalog", include_in_schema=False, status_code=200)
async def catalog_change(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], tenant_id: FromPath[uuid.UUID]
) -> Response[Any]:
    session = session_of(request)
    form = await request.form()
    text = form.get("packages", "")
    confirmed = form.get("confirm_deletions") == "yes"
    await gateway.administration.visible(tenant_id)
    try:
        entries = _entries(text)
        if form.get("action") != "save":
            preview = await gateway.catalog_administration.preview_for_tenant(tenant_id, entries)
            return await _editor(request, gateway, tenant_id, text=text, preview=preview)
        await gateway.catalog_administration.set_for_tenant(
            tenant_id, entries, confirm_deletions=confirmed, actor=session.actor
        )
    except ValidationFailed as failed:
        return await _editor(request, gateway, tenant_id, text=text, errors=failed.errors, status=422)
    except Conflict as refused:
        error = FieldError(path="$", message=refused.message.replace('send "confirm_deletions": true', "confirm"))
        return await _editor(
            request, gateway, tenant_id, text=text, errors=[error], needs_confirmation=True, status=409
        )
    return Redirect(f"{PREFIX}/tenants/{tenant_id}/catalog?done=saved", status_code=303, headers=HEADERS)
