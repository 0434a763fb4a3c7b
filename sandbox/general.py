"""Kombo's general operations beyond the assessment flow, as far as they matter to an assessment vendor.

Enabling and disabling an integration is emulated fully (a disabled integration refuses assessment calls
with ``INTEGRATION.INACTIVE``, as Kombo's ``INACTIVE`` state documents). What a sandbox (assessment)
integration cannot do answers in Kombo's envelope with a code a caller can branch on: force-sync,
passthrough and setup links with ``PLATFORM.INPUT_INVALID``; the ATS and HRIS models with
``INTEGRATION.MODEL_NOT_AVAILABLE``. The choices are listed in docs/sandbox.md.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sandbox.errors import KomboApiError, input_invalid
from sandbox.paging import parse_page_size
from sandbox.schema import (
    ForceSync,
    Passthrough,
    SetEnabled,
    SetupLink,
    UpdateCustomField,
    UpdateIntegrationField,
    decode,
)
from sandbox.service import Sandbox
from sandbox.state import Integration

TOOL_CATEGORIES = ("hris", "ats", "assessment", "lms")


def unsupported(sandbox: Sandbox, message: str, code: str = "PLATFORM.INPUT_INVALID") -> KomboApiError:
    return KomboApiError(sandbox.settings.unsupported_status, code, message)


async def set_enabled(sandbox: Sandbox, integration: Integration, raw: bytes) -> None:
    body = decode(raw, SetEnabled, reject_unknown=sandbox.settings.reject_unknown_fields)
    before = integration.status
    if not body.value and integration.status != "INACTIVE":
        integration.status_before_disabled = integration.status
        integration.status = "INACTIVE"
    elif body.value and integration.status == "INACTIVE":
        integration.status = integration.status_before_disabled or "ACTIVE"
        integration.status_before_disabled = None
    await sandbox.save()
    if integration.status != before and sandbox.settings.state_webhook_on_enabled:
        await sandbox.send_state_changed(integration)


def tools(sandbox: Sandbox, category: str) -> list[dict[str, Any]]:
    """The tools one can connect in this category: the sandbox offers its own tool, for assessments only."""
    if category not in TOOL_CATEGORIES:
        raise input_invalid(f"category must be one of {', '.join(TOOL_CATEGORIES)}.")
    if category != "assessment":
        return []
    base = "https://sandbox.invalid"
    return [
        {
            "id": "sandbox",
            "label": "Kombo Sandbox",
            "internal_label": None,
            "assets": {
                "logo_url": f"{base}/logo.svg",
                "icon_url": f"{base}/icon.svg",
                "icon_black_url": f"{base}/icon-black.svg",
            },
            "paid_api_details_markdown": None,
            "fast_track_details_markdown": None,
            "partner_only_details_markdown": None,
            "connection_guide_url": None,
            "coverage": {"read_models": [], "write_actions": [], "features": []},
        }
    ]


def force_sync(sandbox: Sandbox, integration: Integration, raw: bytes) -> NoReturn:
    decode(raw, ForceSync, reject_unknown=sandbox.settings.reject_unknown_fields, empty_ok=True)
    raise unsupported(sandbox, f"{integration.id} is an assessment integration: there is no data to sync.")


def passthrough(sandbox: Sandbox, integration: Integration, tool: str, api: str, raw: bytes) -> NoReturn:
    decode(raw, Passthrough, reject_unknown=sandbox.settings.reject_unknown_fields)
    if tool != integration.tool:
        raise input_invalid(f"The tool {tool!r} does not match the integration's tool {integration.tool!r}.")
    raise unsupported(sandbox, f"The {integration.tool} tool has no passthrough API {api!r}.")


def setup_link(sandbox: Sandbox, integration: Integration, raw: bytes) -> NoReturn:
    decode(raw, SetupLink, reject_unknown=sandbox.settings.reject_unknown_fields)
    raise unsupported(sandbox, f"{integration.id} has no setup flow steps.")


def empty_page(cursor: str | None, page_size: str | None) -> dict[str, Any]:
    """Integration fields and custom fields: a sandbox integration has none, so there is no next page."""
    parse_page_size(page_size)  # checked as on every list, though nothing is paged
    if cursor is not None:
        raise input_invalid("The cursor is invalid.")
    return {"next": None, "results": []}


def update_integration_field(sandbox: Sandbox, field_id: str, raw: bytes) -> NoReturn:
    decode(raw, UpdateIntegrationField, reject_unknown=sandbox.settings.reject_unknown_fields)
    raise sandbox.not_found(f"No integration field {field_id!r}.")


def update_custom_field(sandbox: Sandbox, field_id: str, raw: bytes) -> NoReturn:
    decode(raw, UpdateCustomField, reject_unknown=sandbox.settings.reject_unknown_fields)
    raise sandbox.not_found(f"No custom field {field_id!r}.")


def model_not_available(sandbox: Sandbox, integration: Integration, path: str) -> KomboApiError:
    """``/ats/...`` and ``/hris/...`` on an assessment integration: the model is not there."""
    parts = [p for p in path.split("/") if p]
    model = parts[1] if len(parts) > 1 else path
    return unsupported(
        sandbox,
        f'The "{model}" model is not available for {integration.id} (an ASSESSMENT integration).',
        "INTEGRATION.MODEL_NOT_AVAILABLE",
    )
