"""Finding 1: a tenant key cannot take over an integration that is not its tenant's.

Tenant A holds a key allowed to manage its integration. Tenant B's customer connected integration X (Kombo
reports ``end_user.origin_id`` = B), nobody bound it yet, and an order for it is held. A's key must not bind
X by either route, must get the very answer an unknown id gets, and must never see B's held order; the
admin token binds X to B, and a later attempt by A's key is still that same answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from agtest import FIXTURES
from agtest.sandbox_support import API_KEY, SandboxHandle
from api.app import create_app
from core.kombo import signature
from core.settings import KomboSettings, Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}


class Stage(msgspec.Struct):
    client: AsyncTestClient[Any]
    sandbox: SandboxHandle
    a: str
    b: str
    a_key: dict[str, str]
    a_key_id: str
    x: str  # B's integration, connected but not bound yet
    secret: str


@pytest.fixture
async def stage(db: Database, test_settings: Settings, sandbox: SandboxHandle) -> AsyncIterator[Stage]:
    del db  # migrated, audited at the end
    kombo = KomboSettings(api_url=sandbox.api_url, api_key=API_KEY, webhook_secrets=("whsec-x",))
    app = create_app(msgspec.structs.replace(test_settings, kombo=kombo, embedded_worker="off"))
    async with AsyncTestClient(app) as client:
        a = (await client.post("/v1/tenants", json={"name": "A"}, headers=ADMIN)).json()["id"]
        b = (await client.post("/v1/tenants", json={"name": "B"}, headers=ADMIN)).json()["id"]
        scopes = {"scopes": ["tenant:read", "orders:read", "integration:manage"]}
        created = (await client.post(f"/v1/tenants/{a}/api-keys", json=scopes, headers=ADMIN)).json()
        x = sandbox.new_integration(origin_id=b)
        yield Stage(
            client=client,
            sandbox=sandbox,
            a=a,
            b=b,
            a_key={"authorization": f"Bearer {created['key']}"},
            a_key_id=created["id"],
            x=x,
            secret=kombo.webhook_secrets[0],
        )


async def deliver_order(stage: Stage, integration_id: str) -> None:
    body = json.loads((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_text())
    body["data"]["integration_id"] = integration_id
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-kombo-signature": signature.sign(stage.secret, raw)}
    assert (await stage.client.post("/kombo/webhooks", content=raw, headers=headers)).status_code == 200


def shape(response: Any, integration_id: str) -> tuple[int, str]:
    """The answer without the id the caller sent and the request's own id: what could differ between ids."""
    problem = response.json()
    return response.status_code, problem["detail"].replace(repr(integration_id), "ID")


async def test_a_tenant_key_cannot_bind_another_tenants_integration(stage: Stage) -> None:
    await deliver_order(stage, stage.x)  # held: nobody holds X yet
    client, a = stage.client, stage.a
    stolen = await client.put(f"/v1/tenants/{a}/integration", json={"integration_id": stage.x}, headers=stage.a_key)
    unknown = await client.put(
        f"/v1/tenants/{a}/integration", json={"integration_id": "sandbox:no-such"}, headers=stage.a_key
    )
    assert stolen.status_code == 404, stolen.text
    assert shape(stolen, stage.x) == shape(unknown, "sandbox:no-such")  # no oracle for existence
    assert (await client.get(f"/v1/tenants/{a}", headers=ADMIN)).json()["integration"] is None
    assert (await client.get(f"/v1/tenants/{a}/orders", headers=stage.a_key)).json()["items"] == []

    # The rightful tenant gets it (the admin binds it), with its held order.
    bound = await client.put(f"/v1/tenants/{stage.b}/integration", json={"integration_id": stage.x}, headers=ADMIN)
    assert bound.status_code == 200, bound.text
    again = await client.put(f"/v1/tenants/{a}/integration", json={"integration_id": stage.x}, headers=stage.a_key)
    assert shape(again, stage.x) == shape(unknown, "sandbox:no-such")  # bound elsewhere: the same answer
    # The admin may bind any integration, but not one another tenant holds.
    taken = await client.put(f"/v1/tenants/{a}/integration", json={"integration_id": stage.x}, headers=ADMIN)
    assert taken.status_code == 409
    assert stage.b not in taken.text


async def test_a_tenant_key_cannot_exchange_another_tenants_connect_token(stage: Stage) -> None:
    client = stage.client
    link = await client.post(
        f"/v1/tenants/{stage.b}/connect-link", json={"end_user_email": "it@b.example"}, headers=ADMIN
    )
    token = link.json()["link"].split("token=")[1]
    stage.sandbox.control.post(f"/_sandbox/connect/{token}/complete").raise_for_status()
    stolen = await client.post(
        f"/v1/tenants/{stage.a}/integration/exchange", json={"token": token}, headers=stage.a_key
    )
    unknown = await client.post(
        f"/v1/tenants/{stage.a}/integration/exchange", json={"token": "no-such-token"}, headers=stage.a_key
    )
    assert stolen.status_code == unknown.status_code == 404, stolen.text
    assert stolen.json()["detail"] == unknown.json()["detail"]
    assert (await client.get(f"/v1/tenants/{stage.a}", headers=ADMIN)).json()["integration"] is None


async def test_a_tenant_key_binds_its_own_integration_and_the_log_says_who(stage: Stage) -> None:
    client, a = stage.client, stage.a
    own = stage.sandbox.new_integration(origin_id=a)
    await deliver_order(stage, own)  # held until A binds it
    bound = await client.put(f"/v1/tenants/{a}/integration", json={"integration_id": own}, headers=stage.a_key)
    assert bound.status_code == 200, bound.text
    assert bound.json()["integration"]["id"] == own
    events = (await client.get(f"/v1/tenants/{a}/events", headers=stage.a_key)).json()
    binding = next(e for e in events if e["type"] == "integration.bound")
    assert binding["actor"] == f"api_key:{stage.a_key_id}"
    assert binding["note"] == own
    # A second integration of A's own replaces the first: a rebinding, logged as such.
    other = stage.sandbox.new_integration(origin_id=a)
    assert (
        await client.put(f"/v1/tenants/{a}/integration", json={"integration_id": other}, headers=stage.a_key)
    ).status_code == 200
    events = (await client.get(f"/v1/tenants/{a}/events", headers=ADMIN)).json()
    rebinding = next(e for e in events if e["type"] == "integration.rebound")
    assert rebinding["note"] == f"{own} -> {other}"
    relink = await client.post(f"/v1/tenants/{a}/relink-link", headers=ADMIN)
    assert relink.status_code == 200
    events = (await client.get(f"/v1/tenants/{a}/events", headers=ADMIN)).json()
    assert events[0]["type"] == "integration.relink_requested"
    assert events[0]["actor"] == "admin"
