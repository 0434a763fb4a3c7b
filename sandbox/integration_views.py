"""An integration as Kombo shows it: the details of ``GET /integrations/{id}`` and the data of its webhook events."""

from __future__ import annotations

from typing import Any

from sandbox.state import Integration


def integration_details(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id,
        "tool": {
            "id": integration.tool,
            "label": "Kombo Sandbox",
            "internal_label": None,
            "logo_url": "https://sandbox.invalid/logo.svg",
            "icon_url": "https://sandbox.invalid/icon.svg",
        },
        "category": "ASSESSMENT",
        "status": integration.status,
        "setup_status": integration.setup_status,
        "end_user": {
            "organization_name": integration.organization_name,
            "creator_email": integration.creator_email,
            "origin_id": integration.origin_id,
        },
        "scope_config": {"id": "sandbox-scope", "name": None},
        "data_expired_at": None,
        "created_at": integration.created_at,
        "beta": False,
        "read_models": [],
        "write_actions": [],
    }


def integration_event_data(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id,
        "tool": integration.tool,
        "category": "ASSESSMENT",
        "end_user": {
            "organization_name": integration.organization_name,
            "creator_email": integration.creator_email,
            "origin_id": integration.origin_id,
        },
    }
