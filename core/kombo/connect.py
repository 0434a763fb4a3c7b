"""Onboarding a customer: Kombo Connect links, the token exchange, and integration management."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from core.kombo.vocabulary import IntegrationCategory, Language, LinkType

NonEmpty = Annotated[str, Meta(min_length=1)]


class CreateLinkRequest(Struct, frozen=True, kw_only=True):
    """Body of ``POST /connect/create-link``.

    Kombo defaults ``integration_category`` to ``HRIS``; ours defaults to ``ASSESSMENT`` and is always
    sent (``UNSET`` fields are omitted, defaults are not), because forgetting it connects the wrong
    product.
    """

    end_user_email: NonEmpty
    end_user_organization_name: NonEmpty
    end_user_origin_id: NonEmpty | UnsetType | None = UNSET
    remote_environment: str | UnsetType | None = UNSET
    integration_category: IntegrationCategory = IntegrationCategory.ASSESSMENT
    integration_tool: str | UnsetType | None = UNSET
    language: Language | UnsetType | None = UNSET
    scope_config_id: str | UnsetType | None = UNSET
    enable_filtering: bool | UnsetType = UNSET
    enable_field_mapping: bool | UnsetType = UNSET
    link_type: LinkType | UnsetType = UNSET


class Link(Struct, frozen=True, kw_only=True):
    link: str


class IntegrationByToken(Struct, frozen=True, kw_only=True):
    """``data`` of ``GET /connect/integration-by-token/{token}``."""

    id: str
    tool: str
    end_user_organization_name: str | UnsetType = UNSET
    end_user_origin_id: str | UnsetType | None = UNSET
    end_user_email: str | UnsetType | None = UNSET
    setup_status: str | UnsetType = UNSET


class RelinkRequest(Struct, frozen=True, kw_only=True):
    language: Language | UnsetType = UNSET
    scope_config_id: str | UnsetType | None = UNSET
    link_type: LinkType | UnsetType = UNSET


class Tool(Struct, frozen=True, kw_only=True):
    id: str
    label: str
    internal_label: str | None = None
    logo_url: str
    icon_url: str


class IntegrationEndUser(Struct, frozen=True, kw_only=True):
    organization_name: str
    creator_email: str | None = None
    origin_id: str | None = None


class ScopeConfig(Struct, frozen=True, kw_only=True):
    id: str
    name: str | None = None


class ModelField(Struct, frozen=True, kw_only=True):
    id: str
    is_available: bool
    coverage_status: str
    scope_config_setting: str | UnsetType = UNSET
    opted_out_by_customer: bool | UnsetType = UNSET


class ModelCoverage(Struct, frozen=True, kw_only=True):
    id: str
    label: str
    is_available: bool
    coverage_status: str
    scope_config_setting: str | UnsetType = UNSET
    opted_out_by_customer: bool | UnsetType = UNSET
    fields: tuple[ModelField, ...] = ()


class Integration(Struct, frozen=True, kw_only=True):
    """``data`` of ``GET /integrations/{integration_id}``; ``status`` is ACTIVE/INVALID/INACTIVE."""

    id: str
    tool: Tool
    category: str
    status: str
    setup_status: str
    end_user: IntegrationEndUser
    scope_config: ScopeConfig | None = None
    data_expired_at: str | None = None
    created_at: str
    beta: bool = False
    read_models: tuple[ModelCoverage, ...] = ()
    write_actions: tuple[ModelCoverage, ...] = ()


class ApiKeyCheck(Struct, frozen=True, kw_only=True):
    """``data`` of ``GET /check-api-key`` (``customer_id`` is a deprecated alias)."""

    environment_id: str
    customer_id: str | UnsetType = UNSET
