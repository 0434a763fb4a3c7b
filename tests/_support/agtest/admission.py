"""Admission (api/admission.py) in tests: settings that lift its limits for tests about something else, and
the app run in the test's own event loop for tests of admission itself.

The limits themselves are exercised by tests/security; elsewhere a test's rapid requests with one credential
(or its deliberate wrong ones) would only meet 429s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import httpx
import msgspec
from litestar import Litestar

from api.app import create_app
from core.settings import Settings

UNLIMITED: Final = {
    "ASSESSGATE_RATE_LIMIT_PER_S": "100000",
    "ASSESSGATE_RATE_LIMIT_BURST": "100000",
    "ASSESSGATE_TENANT_MAX_IN_FLIGHT": "10000",
    "ASSESSGATE_AUTH_FAILURES_BURST": "100000",
}


@asynccontextmanager
async def in_this_loop(settings: Settings, client: tuple[str, int] = ("203.0.113.9", 40000)) -> AsyncIterator[Gateway]:
    """The app with its lifespan run in the test's own event loop (so raw ASGI calls may use its database),
    and an httpx client calling it from ``client``'s address."""
    application = create_app(msgspec.structs.replace(settings, embedded_worker="off"))
    transport = httpx.ASGITransport(application, client=client)  # type: ignore[arg-type]
    async with application.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://gate") as http:
        yield Gateway(app=application, client=http)


def from_address(gateway: Gateway, address: str) -> httpx.AsyncClient:
    """Another client of the same app, from another address."""
    transport = httpx.ASGITransport(gateway.app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://gate")


class Gateway(msgspec.Struct):
    app: Litestar
    client: httpx.AsyncClient
