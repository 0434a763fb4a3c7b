"""Ports: what the domain needs from the outside world, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from core.adapters import Adapter
from core.errors import FieldError
from core.kombo import (
    CreateLinkRequest,
    Integration,
    IntegrationByToken,
    KomboWarning,
    OrderPage,
    PutPackagesRequest,
    ResultBody,
)


@runtime_checkable
class KomboApi(Protocol):
    """Kombo's API as the gateway uses it. Failures raise :class:`core.errors.KomboError`."""

    async def create_link(self, request: CreateLinkRequest) -> str: ...

    async def integration_by_token(self, token: str) -> IntegrationByToken: ...

    async def get_integration(self, integration_id: str) -> Integration: ...

    async def relink(self, integration_id: str) -> str: ...

    async def put_packages(self, integration_id: str, request: PutPackagesRequest) -> tuple[KomboWarning, ...]: ...

    async def list_orders(
        self,
        integration_id: str,
        *,
        statuses: str | None = None,
        created_after: str | None = None,
        cursor: str | None = None,
        page_size: int = 100,
    ) -> OrderPage: ...

    async def put_result(self, integration_id: str, order_id: str, body: ResultBody) -> tuple[KomboWarning, ...]: ...


@runtime_checkable
class AdapterDirectory(Protocol):
    """The loaded handler adapters: which one serves an order, and an instance configured for a tenant."""

    def route(self, package_type: str, *, inline: bool, overrides: Mapping[str, str]) -> str:
        """The adapter's name: the tenant's route overrides first, then plugins.toml's routes."""
        ...

    def adapter(self, name: str, settings: Mapping[str, Any]) -> Adapter | None:
        """The adapter ``name`` with the tenant's ``settings`` merged over plugins.toml's, or None if not loaded."""
        ...

    def check_settings(self, name: str, settings: Mapping[str, Any]) -> list[FieldError]:
        """What is wrong with a tenant's ``settings`` for adapter ``name`` (empty: they are valid)."""
        ...
