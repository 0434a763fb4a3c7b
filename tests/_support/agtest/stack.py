"""A running gateway and sandbox talking real HTTP to each other, for end-to-end tests of orders and results."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from agtest.servers import free_ports, serve
from api.app import create_app
from api.composition import open_gateway
from core.clock import wall_clock_ms
from core.settings import KomboSettings, Settings
from jobs.worker import Worker
from sandbox.app import create_sandbox_app
from sandbox.settings import SandboxSettings
from storage.database import Database

ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
SECRET = "whsec-current-secret"
CATALOG = [
    {"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java", "description": "90 minutes"},
    {"id": "pkg-video", "type": "VIDEO_INTERVIEW", "name": "Video", "description": "15 minutes"},
]


class Clock:
    """Wall-clock time that a test can move forward (the gateway enqueues jobs at the real time)."""

    def __init__(self) -> None:
        self.now = wall_clock_ms()

    def __call__(self) -> int:
        return self.now

    def catch_up(self) -> None:
        """Move to the real time if that is later (after the gateway enqueued something)."""
        self.now = max(self.now, wall_clock_ms())


@dataclass
class Stack:
    gateway: str
    sandbox: str
    settings: Settings
    http: httpx.AsyncClient

    async def tenant_with_integration(self, *, bind: bool = True) -> tuple[str, str]:
        tenant = (await self.http.post(f"{self.gateway}/v1/tenants", json={"name": "Acme"}, headers=ADMIN)).json()["id"]
        await self.http.put(f"{self.gateway}/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
        origin = tenant if bind else None  # integration-created binds the tenant its origin id names
        response = await self.http.post(f"{self.sandbox}/_sandbox/integrations", json={"origin_id": origin})
        return tenant, response.json()["id"]

    async def place(self, integration: str, package: str = "pkg-java", **extra: Any) -> dict[str, Any]:
        body = {"package_id": package, "candidate": {"email": "ada@example.org", "first_name": "Ada"}, **extra}
        response = await self.http.post(f"{self.sandbox}/_sandbox/integrations/{integration}/orders", json=body)
        order: dict[str, Any] = response.json()
        return order

    async def gateway_orders(self, tenant: str) -> list[dict[str, Any]]:
        page = (
            await self.http.get(f"{self.gateway}/v1/tenants/{tenant}/orders", params={"limit": 500}, headers=ADMIN)
        ).json()
        items: list[dict[str, Any]] = page["items"]
        return items


def stack_settings(test_settings: Settings, gateway_port: int, sandbox_port: int, **extra: Any) -> Settings:
    kombo = KomboSettings(api_url=f"http://127.0.0.1:{sandbox_port}/v1", api_key="k", webhook_secrets=(SECRET,))
    return msgspec.structs.replace(test_settings, kombo=kombo, port=gateway_port, embedded_worker="off", **extra)


@pytest.fixture
def ports() -> tuple[int, int]:
    gateway, sandbox = free_ports(2)
    return gateway, sandbox


@contextmanager
def running(settings: Settings, sandbox_port: int) -> Iterator[tuple[str, str]]:
    sandbox_settings = SandboxSettings(
        api_key="k",
        webhook_url=f"http://127.0.0.1:{settings.port}/kombo/webhooks",
        webhook_secret=SECRET,
        public_url=f"http://127.0.0.1:{sandbox_port}",
    )
    with (
        serve(create_sandbox_app(sandbox_settings), sandbox_port) as sandbox_url,
        serve(create_app(settings), settings.port) as gateway_url,
    ):
        yield gateway_url, sandbox_url


@pytest.fixture
async def stack(db: Database, test_settings: Settings, ports: tuple[int, int]) -> AsyncIterator[Stack]:
    settings = stack_settings(test_settings, *ports)
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30, verify=tls_context()) as http:
            yield Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)


async def run_jobs(db: Database, settings: Settings, clock: Any = None) -> None:
    """Run every due job once, as a worker would (``clock`` may be moved forward between calls)."""
    async with AiohttpExchange(tls=tls_context()) as http:
        kombo = KomboClient(http, base_url=settings.kombo.api_url, api_key=settings.kombo.api_key)
        kwargs = {} if clock is None else {"clock": clock}
        async with open_gateway(settings, db=db, kombo=kombo, **kwargs) as gateway:
            await Worker(db, gateway.registry, rng=random.Random(1), **kwargs).drain()
