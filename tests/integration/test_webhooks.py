"""``POST /kombo/webhooks``: signatures, bad input, de-duplication, and integration events routed to tenants."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from agtest import FIXTURES, FUZZ_SCALE
from agtest.servers import free_ports, serve
from api.app import create_app
from core.kombo import signature
from core.settings import KomboSettings, Settings
from sandbox.app import create_sandbox_app
from sandbox.settings import SandboxSettings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
SECRET, OLD_SECRET = "whsec-current-secret", "whsec-previous-secret"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "x-kombo-signature": signature.sign(secret, body)}


def event(event_type: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps({"id": event_id or uuid.uuid4().hex, "type": event_type, "data": data}).encode()


def created(integration_id: str, origin_id: str | None) -> bytes:
    end_user = {"organization_name": "Acme", "creator_email": None, "origin_id": origin_id}
    return event(
        "integration-created", {"id": integration_id, "tool": "sandbox", "category": "ASSESSMENT", "end_user": end_user}
    )


@pytest.fixture
async def client(db: Database, test_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    settings_off = msgspec.structs.replace(test_settings, embedded_worker="off")
    async with AsyncTestClient(create_app(settings_off)) as test_client:
        yield test_client


async def count_events(db: Database) -> int:
    return int((await db.fetch("SELECT COUNT(*) AS n FROM webhook_event"))[0]["n"])


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"content-type": "application/json"}, "missing"),
        ({"content-type": "application/json", "x-kombo-signature": "not-a-signature"}, "does not match"),
        ({"content-type": "application/json", "x-kombo-signature": signature.sign("wrong-secret", b"x")}, "match"),
    ],
)
async def test_bad_or_missing_signatures_are_401_and_write_nothing(
    client: AsyncTestClient[Any], db: Database, headers: dict[str, str], why: str
) -> None:
    body = created("sandbox:abc", None)
    if why == "match":
        headers = signed(body, "wrong-secret")
    response = await client.post("/kombo/webhooks", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert await count_events(db) == 0


async def test_the_previous_secret_is_still_accepted_during_rotation(client: AsyncTestClient[Any]) -> None:
    body = event("data-changed", {"x": 1})
    assert (await client.post("/kombo/webhooks", content=body, headers=signed(body, OLD_SECRET))).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"id": "e1", "type": "integration-created", "data": {"id": "x"', 400),  # truncated
        (b"not json at all", 400),
        (b'{"id": 5, "type": []}', 400),  # JSON of the wrong shape
        (b'{"id": "e2", "type": "integration-state-changed", "data": {"state": "ACTIVE"}}', 400),  # missing keys
        (b"\xff\xfe\xfa", 400),  # not UTF-8
        (b'{"id":"e3","type":"data-changed","data":"' + b"x" * 1_100_000 + b'"}', 413),  # over the size limit
    ],
)
async def test_malformed_and_oversized_bodies_are_4xx_problems_and_write_nothing(
    client: AsyncTestClient[Any], db: Database, body: bytes, status: int
) -> None:
    response = await client.post("/kombo/webhooks", content=body, headers=signed(body))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await count_events(db) == 0


async def test_a_redelivered_event_answers_the_same_and_changes_nothing(
    client: AsyncTestClient[Any], db: Database
) -> None:
    tenant = (await client.post("/v1/tenants", json={"name": "T"}, headers=ADMIN)).json()["id"]
    body = created("sandbox:one", tenant)
    first = await client.post("/kombo/webhooks", content=body, headers=signed(body))
    from tenants.repository import TenantRepository

    await TenantRepository(db).bind_integration(uuid.UUID(tenant), "sandbox:other")  # an operator's later change
    again = await client.post("/kombo/webhooks", content=body, headers=signed(body))
    assert (first.status_code, first.json()) == (again.status_code, again.json()) == (200, {"received": True})
    assert await count_events(db) == 1
    # The replay did not re-bind the first integration over the operator's later change.
    rows = await db.fetch("SELECT integration_id FROM tenant WHERE id = {}", uuid.UUID(tenant))
    assert rows[0]["integration_id"] == "sandbox:other"
    metrics = (await client.get("/metrics")).text
    assert 'assessgate_webhooks_total{outcome="duplicate",type="integration-created"} 1' in metrics


async def new_tenant(client: AsyncTestClient[Any], name: str) -> str:
    tenant_id: str = (await client.post("/v1/tenants", json={"name": name}, headers=ADMIN)).json()["id"]
    return tenant_id


async def test_integration_created_never_takes_a_binding_from_anyone(
    client: AsyncTestClient[Any], db: Database
) -> None:
    """Kombo's event binds only a free integration to a free tenant; anything else is noted and left as it was."""
    holder, other = await new_tenant(client, "A"), await new_tenant(client, "B")
    for body in (created("sandbox:held", holder), created("sandbox:held", other), created("sandbox:new", holder)):
        answer = await client.post("/kombo/webhooks", content=body, headers=signed(body))
        assert (answer.status_code, answer.json()) == (200, {"received": True})
    rows = await db.fetch("SELECT id, integration_id FROM tenant")
    assert {str(row["id"]): row["integration_id"] for row in rows} == {holder: "sandbox:held", other: None}
    notes = [r["note"] for r in await db.fetch("SELECT note FROM webhook_event ORDER BY received_at")]
    assert notes == [
        "integration bound",
        "the integration is bound to another tenant; left as it was",
        "the tenant is bound to another integration; left as it was",
    ]


async def test_unknown_event_types_are_acknowledged_and_kept(client: AsyncTestClient[Any], db: Database) -> None:
    body = event("sync-finished", {"integration_id": "x", "sync_id": "s1"})
    assert (await client.post("/kombo/webhooks", content=body, headers=signed(body))).status_code == 200
    rows = await db.fetch("SELECT type, data, note FROM webhook_event")
    assert rows[0]["type"] == "sync-finished"
    assert json.loads(rows[0]["data"]) == {"integration_id": "x", "sync_id": "s1"}


async def test_an_order_for_an_unbound_integration_is_held(client: AsyncTestClient[Any], db: Database) -> None:
    body = (FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_bytes()
    response = await client.post("/kombo/webhooks", content=body, headers=signed(body))
    assert (response.status_code, response.json()) == (200, {"received": True})
    held = (await client.get("/v1/orders/unrouted", headers=ADMIN)).json()["items"]
    assert [o["kombo_order_id"] for o in held] == ["Ho4Jk7Mn2Pq5Rs8Tu3Vw6Xy9"]


@settings(max_examples=80 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["id", "type", "data", "x"]), inner, max_size=4)
        ),
        max_leaves=10,
    ).map(lambda value: json.dumps(value).encode())
)
async def test_any_signed_body_gets_a_documented_answer(client: AsyncTestClient[Any], body: bytes) -> None:
    response = await client.post("/kombo/webhooks", content=body, headers=signed(body))
    assert response.status_code in {200, 400, 422, 503}


async def test_integration_events_from_the_sandbox_bind_and_update_the_tenant(
    db: Database, test_settings: Settings
) -> None:
    gateway_port, sandbox_port = free_ports(2)
    sandbox_settings = SandboxSettings(
        api_key="k",
        webhook_url=f"http://127.0.0.1:{gateway_port}/kombo/webhooks",
        webhook_secret=SECRET,
        public_url=f"http://127.0.0.1:{sandbox_port}",
    )
    kombo = KomboSettings(api_url=f"http://127.0.0.1:{sandbox_port}/v1", api_key="k", webhook_secrets=(SECRET,))
    settings_gw = msgspec.structs.replace(test_settings, kombo=kombo, port=gateway_port, embedded_worker="off")
    with (
        serve(create_sandbox_app(sandbox_settings), sandbox_port) as sandbox_url,
        serve(create_app(settings_gw), gateway_port) as gateway_url,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            tenant = (await http.post(f"{gateway_url}/v1/tenants", json={"name": "Acme"}, headers=ADMIN)).json()["id"]
            link = (
                await http.post(
                    f"{gateway_url}/v1/tenants/{tenant}/connect-link",
                    json={"end_user_email": "it@acme.example"},
                    headers=ADMIN,
                )
            ).json()["link"]
            completed = (await http.post(f"{sandbox_url}/_sandbox/connect/{link.split('token=')[1]}/complete")).json()
            integration = completed["integration"]["id"]
            bound = (
                await http.get(f"{gateway_url}/v1/tenants/{tenant}", headers=ADMIN)
            ).json()  # no token exchange needed
            await http.post(f"{sandbox_url}/_sandbox/integrations/{integration}/state", json={"state": "INVALID"})
            invalid = (await http.get(f"{gateway_url}/v1/tenants/{tenant}", headers=ADMIN)).json()
            await http.post(f"{sandbox_url}/_sandbox/integrations/{integration}/state", json={"state": "ACTIVE"})
            events = (await http.get(f"{gateway_url}/v1/tenants/{tenant}/events", headers=ADMIN)).json()
            await http.delete(f"{sandbox_url}/v1/integrations/{integration}", headers={"Authorization": "Bearer k"})
            deleted = (await http.get(f"{gateway_url}/v1/tenants/{tenant}", headers=ADMIN)).json()
    assert bound["integration"] == {"id": integration, "state": "ACTIVE"}
    assert invalid["integration"]["state"] == "INVALID"
    assert invalid["actions"] == ["relink"]
    assert [e["type"] for e in events] == [
        "integration-state-changed",
        "integration-state-changed",
        "integration-created",
        "tenant.created",
    ]
    assert {e["actor"] for e in events} == {"kombo", "admin"}
    assert deleted["integration"] is None
