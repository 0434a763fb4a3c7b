"""Isolation: with tenant A's key, no request about tenant B reveals or changes anything of B.

A's key holds every scope (the strongest key an attacker could steal). The routes come from the OpenAPI
document, so a new tenant route is covered (or this test fails until it has a request body here).
Hypothesis picks routes, methods and B's ids in random orders; after every request B must look exactly as
before, seen through the admin token. The second property turns to ownership: A acting on its own tenant
but naming B's objects (B's integration, key, order, upload and external id) or changing what only the
admin may change (its tenant's fields, routes, adapter settings) changes nothing of B's either.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from agtest import FIXTURES
from agtest.sandbox_support import API_KEY, SandboxHandle
from api.app import create_app
from core.kombo import signature
from core.permissions import Scope
from core.settings import KomboSettings, Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}

BODIES: dict[tuple[str, str], Any] = {
    ("get", "/v1/tenants/{tenant_id}"): None,
    ("patch", "/v1/tenants/{tenant_id}"): {"name": "Hijacked"},
    ("delete", "/v1/tenants/{tenant_id}"): None,
    ("post", "/v1/tenants/{tenant_id}/connect-link"): {"end_user_email": "x@example.org"},
    ("post", "/v1/tenants/{tenant_id}/integration/exchange"): {"token": "stolen"},
    ("put", "/v1/tenants/{tenant_id}/integration"): {"integration_id": "sandbox:whatever"},
    ("post", "/v1/tenants/{tenant_id}/relink-link"): None,
    ("post", "/v1/tenants/{tenant_id}/onboarding-link"): {"end_user_email": "x@example.org"},
    ("post", "/v1/tenants/{tenant_id}/api-keys"): {"name": "mine now"},
    ("get", "/v1/tenants/{tenant_id}/api-keys"): None,
    ("delete", "/v1/tenants/{tenant_id}/api-keys/{key_id}"): None,
    ("put", "/v1/tenants/{tenant_id}/secrets/{name}"): {"value": "overwritten"},
    ("get", "/v1/tenants/{tenant_id}/secrets"): None,
    ("delete", "/v1/tenants/{tenant_id}/secrets/{name}"): None,
    ("put", "/v1/tenants/{tenant_id}/packages"): {"packages": [], "confirm_deletions": True},
    ("get", "/v1/tenants/{tenant_id}/packages"): None,
    ("get", "/v1/tenants/{tenant_id}/events"): None,
    ("get", "/v1/tenants/{tenant_id}/orders"): None,
    ("get", "/v1/tenants/{tenant_id}/orders/changes"): None,
    ("get", "/v1/tenants/{tenant_id}/orders/{order_id}"): None,
    ("get", "/v1/tenants/{tenant_id}/routes"): None,
    ("put", "/v1/tenants/{tenant_id}/routes"): {"routes": {"SKILLS_TEST": "accept"}},
    ("post", "/v1/tenants/{tenant_id}/uploads"): b"%PDF-1.4 stolen",
    ("get", "/v1/tenants/{tenant_id}/adapters"): None,
    ("put", "/v1/tenants/{tenant_id}/adapters/{name}/settings"): {"inline_url_template": "https://evil.example"},
    ("post", "/v1/tenants/{tenant_id}/orders/{order_id}/events"): {"type": "background_check.report"},
    ("put", "/v1/tenants/{tenant_id}/orders/{order_id}/result"): {
        "status": "COMPLETED",
        "result_url": "https://x.example/r",
        "completed_at": "2026-01-01T00:00:00Z",
    },
}


class World(msgspec.Struct):
    client: AsyncTestClient[Any]
    a: str
    a_key: str
    a_order_id: str
    b: str
    b_key_id: str
    b_order_id: str
    b_kombo_order_id: str  # the same order by Kombo's id, which every order route also takes
    b_integration: str
    b_upload_id: str


@pytest.fixture
async def world(db: Database, test_settings: Settings, sandbox: SandboxHandle) -> AsyncIterator[World]:
    kombo = KomboSettings(api_url=sandbox.api_url, api_key=API_KEY, webhook_secrets=("whsec-x",))
    app = create_app(msgspec.structs.replace(test_settings, kombo=kombo, embedded_worker="off"))
    async with AsyncTestClient(app) as client:
        a = (await client.post("/v1/tenants", json={"name": "A"}, headers=ADMIN)).json()["id"]
        b = (await client.post("/v1/tenants", json={"name": "B", "external_id": "b-ext"}, headers=ADMIN)).json()["id"]
        every = {"scopes": [s.value for s in Scope]}
        a_key = (await client.post(f"/v1/tenants/{a}/api-keys", json=every, headers=ADMIN)).json()["key"]
        b_key_id = (await client.post(f"/v1/tenants/{b}/api-keys", json={}, headers=ADMIN)).json()["id"]
        integration = sandbox.new_integration(origin_id=b)
        await client.put(f"/v1/tenants/{b}/integration", json={"integration_id": integration}, headers=ADMIN)
        await client.put(f"/v1/tenants/{b}/secrets/smtp_password", json={"value": "b-secret-value"}, headers=ADMIN)
        packages = [{"id": "p", "type": "SKILLS_TEST", "name": "P", "description": ""}]
        a_integration = sandbox.new_integration(origin_id=a)
        await client.put(f"/v1/tenants/{a}/integration", json={"integration_id": a_integration}, headers=ADMIN)
        for tenant, tenant_integration in ((a, a_integration), (b, integration)):
            await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": packages}, headers=ADMIN)
            order = sample_order(tenant_integration, "p")  # received the way every order is
            signed = {
                "content-type": "application/json",
                "x-kombo-signature": signature.sign(kombo.webhook_secrets[0], order),
            }
            assert (await client.post("/kombo/webhooks", content=order, headers=signed)).status_code == 200
        [a_order] = (await client.get(f"/v1/tenants/{a}/orders", headers=ADMIN)).json()["items"]
        [b_order] = (await client.get(f"/v1/tenants/{b}/orders", headers=ADMIN)).json()["items"]
        b_upload = await client.post(
            f"/v1/tenants/{b}/uploads",
            content=b"%PDF-1.4 B's report",
            params={"name": "b.pdf"},
            headers={**ADMIN, "content-type": "application/pdf"},
        )
        yield World(
            client=client,
            a=a,
            a_key=a_key,
            a_order_id=a_order["id"],
            b=b,
            b_key_id=b_key_id,
            b_order_id=b_order["id"],
            b_kombo_order_id=b_order["kombo_order_id"],
            b_integration=integration,
            b_upload_id=b_upload.json()["id"],
        )


def sample_order(integration_id: str, package_id: str) -> bytes:
    body = json.loads((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_text())
    body["data"].update(integration_id=integration_id, package_id=package_id, id=f"order-{integration_id}")
    body["id"] = f"event-{integration_id}"
    return json.dumps(body).encode()


async def snapshot(world: World) -> list[Any]:
    b = world.b
    views = []
    for path in (
        f"/v1/tenants/{b}",
        f"/v1/tenants/{b}/api-keys",
        f"/v1/tenants/{b}/secrets",
        f"/v1/tenants/{b}/packages",
        f"/v1/tenants/{b}/routes",
        f"/v1/tenants/{b}/adapters",
        f"/v1/tenants/{b}/orders",
        f"/v1/tenants/{b}/orders/{world.b_order_id}",
    ):
        views.append((await world.client.get(path, headers=ADMIN)).json())
    return views


async def tenant_routes(world: World) -> list[tuple[str, str]]:
    schema = (await world.client.get("/schema/openapi.json")).json()
    return sorted(
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith("/v1/tenants/{tenant_id}")
        for method in operations
    )


async def test_every_tenant_route_has_an_isolation_case(world: World) -> None:
    assert set(await tenant_routes(world)) == set(BODIES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(sorted(BODIES)),
    secret_name=st.sampled_from(["smtp_password", "other"]),
    unknown_key=st.booleans(),
    by_kombo_id=st.booleans(),
)
async def test_tenant_a_cannot_see_or_touch_tenant_b(
    world: World, route: tuple[str, str], secret_name: str, unknown_key: bool, by_kombo_id: bool
) -> None:
    before = await snapshot(world)
    method, template = route
    path = template.format(
        tenant_id=world.b,
        key_id=uuid.uuid4() if unknown_key else world.b_key_id,
        name=secret_name,
        order_id=world.b_kombo_order_id if by_kombo_id else world.b_order_id,  # B's real order, by either id
    )
    body = BODIES[route]
    headers = {"authorization": f"Bearer {world.a_key}"}
    if isinstance(body, bytes):  # an upload: the file is the body
        response = await world.client.request(
            method.upper(),
            path,
            content=body,
            params={"name": "x.pdf"},
            headers={**headers, "content-type": "application/pdf"},
        )
    else:
        response = await world.client.request(
            method.upper(), path, headers=headers, **({"json": body} if body is not None else {})
        )
    assert response.status_code == 404, (route, response.text)
    assert world.b not in response.text or "no tenant" in response.text
    assert "b-secret-value" not in response.text
    assert "b-ext" not in response.text
    assert await snapshot(world) == before


async def test_listing_with_a_key_shows_only_its_tenant(world: World) -> None:
    listed = (await world.client.get("/v1/tenants", headers={"authorization": f"Bearer {world.a_key}"})).json()
    assert world.b not in {t["id"] for t in listed["items"]}
    assert len(listed["items"]) == 1
    jobs = await world.client.get("/v1/jobs", headers={"authorization": f"Bearer {world.a_key}"})
    assert jobs.status_code == 403  # operations are the admin's


def result_with(**attachment: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETED",
        "result_url": "https://x.example/r",
        "completed_at": "2026-01-01T00:00:00Z",
    }
    if attachment:
        body["attachments"] = [{"name": "report.pdf", "content_type": "application/pdf", **attachment}]
    return body


#: (method, path on A's own tenant, body, the answers allowed): A names B's objects or reaches for the admin's.
OWNERSHIP: dict[str, tuple[str, str, Any, set[int]]] = {
    "bind B's integration": ("put", "/v1/tenants/{a}/integration", {"integration_id": "{b_integration}"}, {404}),
    "revoke B's key": ("delete", "/v1/tenants/{a}/api-keys/{b_key_id}", None, {404}),
    "read B's order": ("get", "/v1/tenants/{a}/orders/{b_order_id}", None, {404}),
    "result for B's order": ("put", "/v1/tenants/{a}/orders/{b_order_id}/result", result_with(), {404}),
    "report on B's order": ("post", "/v1/tenants/{a}/orders/{b_order_id}/events", {"type": "x"}, {404}),
    "read B's order by Kombo's id": ("get", "/v1/tenants/{a}/orders/{b_kombo_order_id}", None, {404}),
    "result for B's order by Kombo's id": (
        "put",
        "/v1/tenants/{a}/orders/{b_kombo_order_id}/result",
        result_with(),
        {404},
    ),
    "report on B's order by Kombo's id": (
        "post",
        "/v1/tenants/{a}/orders/{b_kombo_order_id}/events",
        {"type": "x"},
        {404},
    ),
    "B's upload in A's result": (
        "put",
        "/v1/tenants/{a}/orders/{a_order_id}/result",
        result_with(upload_id="{b_upload_id}"),
        {422},
    ),
    "take B's external id": ("patch", "/v1/tenants/{a}", {"external_id": "b-ext"}, {403}),
    "rename itself": ("patch", "/v1/tenants/{a}", {"name": "B"}, {403}),
    "route itself": ("put", "/v1/tenants/{a}/routes", {"routes": {"SKILLS_TEST": "accept"}}, {403}),
    "own adapter settings": (
        "put",
        "/v1/tenants/{a}/adapters/forward/settings",
        {"forward_url": "http://169.254.169.254/"},
        {403},
    ),
    "own secret of B's name": ("put", "/v1/tenants/{a}/secrets/smtp_password", {"value": "a-secret"}, {204}),
    "mint a key": ("post", "/v1/tenants/{a}/api-keys", {"name": "spare"}, {201}),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attacks=st.lists(st.sampled_from(sorted(OWNERSHIP)), min_size=1, max_size=4))
async def test_tenant_a_owns_only_what_is_its_own(world: World, attacks: list[str]) -> None:
    before = await snapshot(world)
    ids = msgspec.structs.asdict(world)
    for attack in attacks:
        method, template, body, allowed = OWNERSHIP[attack]
        filled = json.loads(json.dumps(body).replace("{b_upload_id}", world.b_upload_id)) if body else None
        if isinstance(filled, dict) and filled.get("integration_id") == "{b_integration}":
            filled["integration_id"] = world.b_integration
        response = await world.client.request(
            method.upper(),
            template.format(**ids),
            headers={"authorization": f"Bearer {world.a_key}"},
            **({"json": filled} if filled is not None else {}),
        )
        assert response.status_code in allowed, (attack, response.text)
        assert world.b not in response.text
        assert "b-secret-value" not in response.text
        assert "b-ext" not in response.text or attack == "take B's external id"
    assert await snapshot(world) == before
