"""The tenant API against the sandbox over real HTTP: onboarding, catalogs pushed to Kombo, keys, secrets."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from agtest.sandbox_support import API_KEY, SandboxHandle
from agtest.stack import Clock
from api.app import create_app
from api.composition import open_gateway
from core.settings import KomboSettings, Settings
from jobs.worker import Worker
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
CATALOG = [
    {"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java", "description": "90 minutes"},
    {"id": "pkg-video", "type": "VIDEO_INTERVIEW", "name": "Video", "description": "15 minutes"},
    {"id": "pkg-bg", "type": "BACKGROUND_CHECK", "name": "Background", "description": "EU"},
    {"id": "pkg-ref", "type": "REFERENCE_CHECK", "name": "References", "description": "Two calls"},
]


@pytest.fixture
def gateway_settings(test_settings: Settings, sandbox: SandboxHandle) -> Settings:
    kombo = KomboSettings(api_url=sandbox.api_url, api_key=API_KEY, webhook_secrets=("whsec-x",))
    return msgspec.structs.replace(test_settings, kombo=kombo, embedded_worker="off")


@pytest.fixture
async def client(db: Database, gateway_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(gateway_settings)) as test_client:
        yield test_client


async def run_jobs(db: Database, settings: Settings, clock: Clock | None = None) -> None:
    """Run every due job once, the way a worker would (the clock may be moved between calls)."""
    clock = clock or Clock()
    async with AiohttpExchange(tls=tls_context()) as http:
        kombo = KomboClient(http, base_url=settings.kombo.api_url, api_key=settings.kombo.api_key)
        async with open_gateway(settings, db=db, kombo=kombo, clock=clock) as gateway:
            await Worker(db, gateway.registry, clock=clock, rng=random.Random(1)).drain()


async def new_tenant(client: AsyncTestClient[Any], name: str = "Acme") -> str:
    response = await client.post("/v1/tenants", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    tenant_id: str = response.json()["id"]
    return tenant_id


def sandbox_packages(sandbox: SandboxHandle, integration: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration}
    packages: list[dict[str, Any]] = httpx.get(f"{sandbox.api_url}/assessment/packages", headers=headers).json()[
        "data"
    ]["packages"]
    return packages


async def bound_tenant(client: AsyncTestClient[Any], sandbox: SandboxHandle) -> tuple[str, str]:
    tenant = await new_tenant(client)
    integration = sandbox.new_integration(origin_id=tenant)
    response = await client.put(
        f"/v1/tenants/{tenant}/integration", json={"integration_id": integration}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    return tenant, integration


async def test_connect_link_token_exchange_and_binding(client: AsyncTestClient[Any], sandbox: SandboxHandle) -> None:
    tenant = await new_tenant(client, "Nordlicht Logistics")
    link = await client.post(
        f"/v1/tenants/{tenant}/connect-link", json={"end_user_email": "it@nordlicht.example"}, headers=ADMIN
    )
    assert link.status_code == 200, link.text
    token = link.json()["link"].split("token=")[1]
    completed = sandbox.control.post(f"/_sandbox/connect/{token}/complete").json()
    assert completed["integration"]["origin_id"] == tenant  # our tenant id travelled as end_user_origin_id
    exchanged = await client.post(
        f"/v1/tenants/{tenant}/integration/exchange", json={"token": completed["token"]}, headers=ADMIN
    )
    assert exchanged.status_code == 200, exchanged.text
    body = exchanged.json()
    assert body["integration"] == {"id": completed["integration"]["id"], "state": "ACTIVE"}
    assert body["actions"] == []
    shown = (await client.get(f"/v1/tenants/{tenant}", headers=ADMIN)).json()
    assert shown["integration"]["id"] == completed["integration"]["id"]


async def test_an_integration_bound_to_one_tenant_is_refused_to_another(
    client: AsyncTestClient[Any], sandbox: SandboxHandle
) -> None:
    _, integration = await bound_tenant(client, sandbox)
    other = await new_tenant(client, "Other")
    refused = await client.put(f"/v1/tenants/{other}/integration", json={"integration_id": integration}, headers=ADMIN)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    unknown = await client.put(
        f"/v1/tenants/{other}/integration", json={"integration_id": "sandbox:nope"}, headers=ADMIN
    )
    assert unknown.status_code == 422  # Kombo said no such integration: the caller gave a wrong id
    assert "sandbox:nope" in unknown.json()["detail"]


async def test_a_catalog_change_arrives_in_the_sandbox_exactly(
    client: AsyncTestClient[Any], sandbox: SandboxHandle, db: Database, gateway_settings: Settings
) -> None:
    tenant, integration = await bound_tenant(client, sandbox)
    put = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
    assert put.status_code == 200, put.text
    assert put.json()["sync_state"] == "pending"
    assert put.json()["diff"]["added"] == [p["id"] for p in CATALOG]
    await run_jobs(db, gateway_settings)
    assert [
        {k: p[k] for k in ("id", "type", "name", "description")} for p in sandbox_packages(sandbox, integration)
    ] == CATALOG
    view = (await client.get(f"/v1/tenants/{tenant}/packages", headers=ADMIN)).json()
    assert view["sync_state"] == "in_sync"
    assert view["diff"] == {"added": [], "changed": [], "removed": []}
    changed = [{**CATALOG[0], "name": "Java (Senior)"}, *CATALOG[1:]]
    diff = (await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": changed}, headers=ADMIN)).json()
    assert diff["diff"]["changed"] == ["pkg-java"]
    await run_jobs(db, gateway_settings)
    assert sandbox_packages(sandbox, integration)[0]["name"] == "Java (Senior)"


async def test_a_rate_limited_or_unavailable_kombo_is_retried_until_the_push_lands(
    client: AsyncTestClient[Any], sandbox: SandboxHandle, db: Database, gateway_settings: Settings
) -> None:
    tenant, integration = await bound_tenant(client, sandbox)
    sandbox.control.post(
        "/_sandbox/faults",
        json={"target": "PUT /assessment/packages", "status": 429, "code": "PLATFORM.RATE_LIMIT_EXCEEDED", "times": 1},
    )
    sandbox.control.post(
        "/_sandbox/faults", json={"target": "PUT /assessment/packages", "status": 503, "code": None, "times": 1}
    )
    await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
    clock = Clock()
    states = []
    for _ in range(3):
        await run_jobs(db, gateway_settings, clock)
        states.append((await client.get(f"/v1/tenants/{tenant}/packages", headers=ADMIN)).json()["sync_state"])
        clock.now += 10 * 60_000  # past any backoff
    assert states == ["pending", "pending", "in_sync"]
    assert len(sandbox_packages(sandbox, integration)) == len(CATALOG)
    jobs = (await client.get("/v1/jobs", params={"kind": "catalog.push"}, headers=ADMIN)).json()["items"]
    assert [(j["state"], j["attempts"]) for j in jobs] == [("done", 3)]


async def test_a_mass_deletion_needs_confirmation(
    client: AsyncTestClient[Any], sandbox: SandboxHandle, db: Database, gateway_settings: Settings
) -> None:
    tenant, integration = await bound_tenant(client, sandbox)
    await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
    await run_jobs(db, gateway_settings)
    refused = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG[:1]}, headers=ADMIN)
    assert refused.status_code == 409
    assert "confirm_deletions" in refused.json()["detail"]
    small = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG[:3]}, headers=ADMIN)
    assert small.status_code == 200  # one of four is under the default share
    confirmed = await client.put(
        f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG[:1], "confirm_deletions": True}, headers=ADMIN
    )
    assert confirmed.status_code == 200
    await run_jobs(db, gateway_settings)
    assert [p["id"] for p in sandbox_packages(sandbox, integration)] == ["pkg-java"]


async def test_a_catalog_waits_for_the_integration(
    client: AsyncTestClient[Any], sandbox: SandboxHandle, db: Database, gateway_settings: Settings
) -> None:
    tenant = await new_tenant(client)
    await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
    await run_jobs(db, gateway_settings)
    parked = (await client.get("/v1/jobs", params={"kind": "catalog.push"}, headers=ADMIN)).json()["items"]
    assert parked[0]["state"] == "parked"
    integration = sandbox.new_integration(origin_id=tenant)
    await client.put(f"/v1/tenants/{tenant}/integration", json={"integration_id": integration}, headers=ADMIN)
    await run_jobs(db, gateway_settings)
    assert len(sandbox_packages(sandbox, integration)) == len(CATALOG)


@pytest.mark.parametrize(
    ("packages", "status", "path"),
    [
        ([CATALOG[0], CATALOG[0]], 422, "$.packages[1].id"),
        ([{**CATALOG[0], "name": "  "}], 422, "$.packages[0].name"),
        ([{**CATALOG[0], "type": "CODING"}], 422, "$.packages[0].type"),
        ([{**CATALOG[0], "id": 5}], 400, "id"),  # a wrong JSON type is a body that does not decode
    ],
)
async def test_invalid_catalogs_are_refused_naming_the_field(
    client: AsyncTestClient[Any], packages: list[dict[str, str]], status: int, path: str
) -> None:
    tenant = await new_tenant(client)
    response = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": packages}, headers=ADMIN)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert path in response.text


async def test_one_422_names_every_bad_entry_of_a_catalog(client: AsyncTestClient[Any]) -> None:
    tenant = await new_tenant(client)
    packages = [
        CATALOG[0],
        {"id": "pkg-unknown"},  # neither in the vendor's catalog nor complete
        {**CATALOG[1], "type": "CODING", "name": " "},
        CATALOG[0],
        {**CATALOG[2], "id": "x" * 201, "description": "d" * 5001},
    ]
    response = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": packages}, headers=ADMIN)
    assert response.status_code == 422, response.text
    named = sorted(error["path"] for error in response.json()["errors"])
    assert named == [
        "$.packages[1].id",
        "$.packages[2].name",
        "$.packages[2].type",
        "$.packages[3].id",
        "$.packages[4].description",
        "$.packages[4].id",
    ]
    vendor = await client.put("/v1/packages", json={"packages": packages}, headers=ADMIN)
    assert vendor.status_code == 422, vendor.text
    vendor_named = sorted(error["path"] for error in vendor.json()["errors"])
    assert vendor_named == [
        "$.packages[1].name",
        "$.packages[1].type",
        "$.packages[2].name",
        "$.packages[2].type",
        "$.packages[3].id",
        "$.packages[4].description",
        "$.packages[4].id",
    ]


async def test_tenant_keys_act_only_on_their_own_tenant(client: AsyncTestClient[Any]) -> None:
    mine, theirs = await new_tenant(client, "Mine"), await new_tenant(client, "Theirs")
    scoped = {"name": "platform", "scopes": ["tenant:read", "keys:manage"]}
    created = (await client.post(f"/v1/tenants/{mine}/api-keys", json=scoped, headers=ADMIN)).json()
    key = {"authorization": f"Bearer {created['key']}"}
    assert (await client.get(f"/v1/tenants/{mine}", headers=key)).status_code == 200
    assert (await client.get(f"/v1/tenants/{theirs}", headers=key)).status_code == 404
    assert [t["id"] for t in (await client.get("/v1/tenants", headers=key)).json()["items"]] == [mine]
    assert (await client.post("/v1/tenants", json={"name": "x"}, headers=key)).status_code == 403
    listed = (await client.get(f"/v1/tenants/{mine}/api-keys", headers=key)).json()
    assert "key" not in listed[0]
    revoked = await client.delete(f"/v1/tenants/{mine}/api-keys/{created['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    assert (await client.get(f"/v1/tenants/{mine}", headers=key)).status_code == 401


async def test_listing_paginates_and_deleting_keeps_the_row(client: AsyncTestClient[Any], db: Database) -> None:
    ids = [await new_tenant(client, f"T{n}") for n in range(5)]
    first = (await client.get("/v1/tenants", params={"limit": 2}, headers=ADMIN)).json()
    second = (
        await client.get("/v1/tenants", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADMIN)
    ).json()
    assert [t["id"] for t in first["items"] + second["items"]] == ids[:4]
    assert (await client.delete(f"/v1/tenants/{ids[0]}", headers=ADMIN)).status_code == 204
    assert (await client.get(f"/v1/tenants/{ids[0]}", headers=ADMIN)).status_code == 404
    rows = await db.fetch("SELECT deleted_at FROM tenant WHERE id = {}", uuid.UUID(ids[0]))
    assert rows[0]["deleted_at"] is not None  # never silently dropped


async def test_an_invalid_integration_shows_a_relink_action(
    client: AsyncTestClient[Any], sandbox: SandboxHandle, db: Database
) -> None:
    from tenants.repository import TenantRepository

    tenant, integration = await bound_tenant(client, sandbox)
    await TenantRepository(db).set_integration_state(integration, "INVALID")
    shown = (await client.get(f"/v1/tenants/{tenant}", headers=ADMIN)).json()
    assert shown["actions"] == ["relink"]
    assert shown["integration"]["state"] == "INVALID"
    link = await client.post(f"/v1/tenants/{tenant}/relink-link", headers=ADMIN)
    assert link.status_code == 200
    token = link.json()["link"].split("token=")[1]
    sandbox.control.post(f"/_sandbox/connect/{token}/complete").raise_for_status()
    state_changes = sandbox.receiver.events("integration-state-changed")
    assert state_changes[-1]["data"] == {**state_changes[-1]["data"], "integration_id": integration, "state": "ACTIVE"}


async def test_tenants_select_from_the_vendor_catalog_with_overrides(
    client: AsyncTestClient[Any], sandbox: SandboxHandle, db: Database, gateway_settings: Settings
) -> None:
    vendor = await client.put("/v1/packages", json={"packages": CATALOG}, headers=ADMIN)
    assert vendor.status_code == 200, vendor.text
    tenant, integration = await bound_tenant(client, sandbox)
    selection = [
        {"id": "pkg-java", "name": "Java for Acme"},  # a vendor package, renamed for this customer
        {"id": "pkg-bg"},  # as the vendor describes it
        {"id": "acme-own", "type": "BEHAVIORAL", "name": "Acme culture fit", "description": "custom"},
    ]
    put = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": selection}, headers=ADMIN)
    assert put.status_code == 200, put.text
    await run_jobs(db, gateway_settings)
    offered = {p["id"]: (p["type"], p["name"], p["description"]) for p in sandbox_packages(sandbox, integration)}
    assert offered == {
        "pkg-java": ("SKILLS_TEST", "Java for Acme", "90 minutes"),
        "pkg-bg": ("BACKGROUND_CHECK", "Background", "EU"),
        "acme-own": ("BEHAVIORAL", "Acme culture fit", "custom"),
    }
    # The vendor rewords a package: every tenant offering it is pushed again.
    reworded = [{**p, "description": "Updated"} if p["id"] == "pkg-bg" else p for p in CATALOG]
    assert (await client.put("/v1/packages", json={"packages": reworded}, headers=ADMIN)).status_code == 200
    await run_jobs(db, gateway_settings)
    assert {p["id"]: p["description"] for p in sandbox_packages(sandbox, integration)}["pkg-bg"] == "Updated"
    # Dropping a package a tenant offers by id alone is refused until the tenant changes its selection.
    dropped = await client.put("/v1/packages", json={"packages": CATALOG[:1]}, headers=ADMIN)
    assert dropped.status_code == 409
    assert tenant in dropped.json()["detail"]
    unknown = await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": [{"id": "nope"}]}, headers=ADMIN)
    assert unknown.status_code == 422
    assert "not in the vendor's catalog" in unknown.text
