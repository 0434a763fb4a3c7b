"""The sandbox mounted in the gateway (sandbox mode), as a ``SandboxHandle`` like the standalone ``sandbox``.

``mounted`` runs on both database engines (it takes ``database_url``): the mounted sandbox keeps its state in
the gateway's database, and its webhooks go to the gateway's own ``/kombo/webhooks`` (so its ``receiver``
stays empty; ``/_sandbox/state`` lists the deliveries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from agtest.sandbox_support import Receiver, SandboxHandle
from agtest.servers import free_port, serve
from api.app import create_app
from api.bootstrap import with_sandbox
from core.settings import Settings, load_settings
from sandbox.settings import SandboxSettings
from tenants.db import Database
from tenants.migrations import migrate


def _sandbox_mode(database_url: str, tmp_path: Path, port: int) -> Settings:
    base = load_settings(
        {
            "ASSESSGATE_DATABASE_URL": database_url,
            "ASSESSGATE_DATA_DIR": str(tmp_path / "data"),
            "ASSESSGATE_ADMIN_TOKEN": "test-admin-token-0123456789",
            "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
            "ASSESSGATE_PORT": str(port),
        }
    )
    # No embedded worker: nothing but the test calls the sandbox's API.
    return with_sandbox(msgspec.structs.replace(base, embedded_worker="off"))


async def _migrate(settings: Settings) -> None:
    db = Database(settings.database)
    await db.start()
    try:
        await migrate(db)
    finally:
        await db.close()


@pytest.fixture
def mounted(database_url: str, tmp_path: Path) -> Iterator[SandboxHandle]:
    port = free_port()
    settings = _sandbox_mode(database_url, tmp_path, port)
    asyncio.run(_migrate(settings))
    with serve(create_app(settings), port) as url, httpx.Client(base_url=f"{url}/sandbox", timeout=30) as control:
        yield SandboxHandle(
            url=f"{url}/sandbox",
            api_url=settings.kombo.api_url,
            control=control,
            receiver=Receiver(),
            settings=SandboxSettings(api_key=settings.kombo.api_key, public_url=f"{url}/sandbox"),
        )
