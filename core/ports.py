"""Ports: what the domain needs from the outside world, as Protocols. Adapters implement them."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.kombo import CreateLinkRequest, Integration, IntegrationByToken, KomboWarning, PutPackagesRequest


@runtime_checkable
class KomboApi(Protocol):
    """Kombo's API as the gateway uses it. Failures raise :class:`core.errors.KomboError`."""

    async def create_link(self, request: CreateLinkRequest) -> str: ...

    async def integration_by_token(self, token: str) -> IntegrationByToken: ...

    async def get_integration(self, integration_id: str) -> Integration: ...

    async def relink(self, integration_id: str) -> str: ...

    async def put_packages(self, integration_id: str, request: PutPackagesRequest) -> tuple[KomboWarning, ...]: ...
