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
import pytest

from agtest.sandbox_support import Receiver, SandboxHandle, sandbox_mode_settings
from agtest.servers import free_port, serve
from api.app import create_app
from core.settings import Settings
from sandbox.settings import SandboxSettings
from storage.database import Database
from storage.migrations import migrate


async def _migrate(settings: Settings) -> None:
    db = Database(settings.database)
    await db.start()
    try:
        await migrate(db)
    finally:
        await db.close()


@pytest.fixture
def mounted(database_url: str, tmp_path: Path, migrated_copy: None) -> Iterator[SandboxHandle]:
    port = free_port()
    settings = sandbox_mode_settings(database_url, tmp_path, port)
    asyncio.run(_migrate(settings))
    with serve(create_app(settings), port) as url, httpx.Client(base_url=f"{url}/sandbox", timeout=30) as control:
        yield SandboxHandle(
            url=f"{url}/sandbox",
            api_url=settings.kombo.api_url,
            control=control,
            receiver=Receiver(),
            settings=SandboxSettings(api_key=settings.kombo.api_key, public_url=f"{url}/sandbox"),
        )
