"""Ports: what the domain needs from the outside world, as Protocols. Adapters implement them."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

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
