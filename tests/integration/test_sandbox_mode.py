"""Sandbox mode: with no Kombo API key the gateway mounts the sandbox and talks to it over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec

from agtest.sandbox_support import sandbox_mode_settings
from agtest.servers import free_port, serve
from api.app import create_app
from core.settings import Settings


def test_sandbox_mode_mounts_a_working_kombo(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    settings = sandbox_mode_settings(database_url, tmp_path, port)
    assert settings.kombo.sandbox
    assert settings.kombo.api_url == f"http://127.0.0.1:{port}/sandbox/v1"
    key = (tmp_path / "data" / "sandbox-api-key").read_text().strip()
    assert settings.kombo.api_key == key
    with serve(create_app(settings), port) as url:
        health = httpx.get(f"{url}/health").json()
        checked = httpx.get(f"{settings.kombo.api_url}/check-api-key", headers={"Authorization": f"Bearer {key}"})
        refused = httpx.get(f"{settings.kombo.api_url}/check-api-key", headers={"Authorization": "Bearer nope"})
        page = httpx.get(f"{url}/sandbox/_sandbox/ui")
        integration = httpx.post(f"{url}/sandbox/_sandbox/integrations", json={"organization_name": "Demo"}).json()
        deliveries = httpx.get(f"{url}/sandbox/_sandbox/state").json()["deliveries"]
        schema = httpx.get(f"{url}/schema/openapi.json").json()
    assert health["mode"] == "sandbox"
    assert checked.status_code == 200
    assert checked.json()["status"] == "success"
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "PLATFORM.AUTHENTICATION_INVALID"  # Kombo's shape, not problem+json
    assert page.status_code == 200
    assert 'action="/sandbox/_sandbox/ui/orders"' in page.text or "Create sandbox integration" in page.text
    assert integration["id"].startswith("sandbox:")
    # The webhook went to the gateway's own ingress (signed with the shared secret).
    assert deliveries[-1]["event_type"] == "integration-created"
    assert not any(path.startswith("/sandbox") for path in schema["paths"])  # not part of the gateway's API


def test_a_kombo_key_means_no_sandbox(test_settings: Settings) -> None:
    assert not test_settings.kombo.sandbox
    port = free_port()
    settings = msgspec.structs.replace(test_settings, port=port, embedded_worker="off")
    with serve(create_app(settings), port) as url:
        assert httpx.get(f"{url}/health").json()["mode"] == "kombo"
        assert httpx.get(f"{url}/sandbox/_sandbox/ui").status_code == 404


def test_the_mounted_sandbox_keeps_its_state_in_the_gateways_database(database_url: str, tmp_path: Path) -> None:
    import asyncio

    from storage.database import Database
    from storage.migrations import migrate

    port = free_port()
    settings = sandbox_mode_settings(database_url, tmp_path, port)

    async def migrated() -> None:
        db = Database(settings.database)
        await db.start()
        await migrate(db)
        await db.close()

    asyncio.run(migrated())
    key = {"Authorization": f"Bearer {settings.kombo.api_key}"}
    with serve(create_app(settings), port) as url:
        integration = httpx.post(f"{url}/sandbox/_sandbox/integrations", json={"origin_id": "t-1"}).json()["id"]
        packages = {"packages": [{"id": "p1", "type": "SKILLS_TEST", "name": "P", "description": ""}]}
        httpx.put(
            f"{settings.kombo.api_url}/assessment/packages",
            json=packages,
            headers={**key, "X-Integration-Id": integration},
        ).raise_for_status()
        order = httpx.post(
            f"{url}/sandbox/_sandbox/integrations/{integration}/orders",
            json={"package_id": "p1", "candidate": {"email": "a@example.org"}},
        ).json()["id"]
    with serve(create_app(settings), port):  # a restart: a new process would see the same
        headers = {**key, "X-Integration-Id": integration}
        listed = httpx.get(f"{settings.kombo.api_url}/assessment/orders", headers=headers).json()
        catalog = httpx.get(f"{settings.kombo.api_url}/assessment/packages", headers=headers).json()
    assert [o["id"] for o in listed["data"]["results"]] == [order]
    assert [p["id"] for p in catalog["data"]["packages"]] == ["p1"]
