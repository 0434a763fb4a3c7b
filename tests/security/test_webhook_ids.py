"""Finding 5: a signed webhook whose ids are longer than the columns that store them, or hold a NUL or another
control character, was a 500 on PostgreSQL (and 200 on SQLite), a poison message Kombo would retry for ever.

Such ids are refused when the body is decoded, before anything touches the database: the same 400
problem+json on both engines, nothing stored. An id of exactly the longest length is still taken.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from agtest import FIXTURES
from agtest.runtime import gateway_for
from agtest.sandbox_support import API_KEY, SandboxHandle
from api.app import create_app
from core.adapters import Accept, AdapterContext, Decision, OrderView
from core.catalog import TenantPackage
from core.errors import PayloadInvalid
from core.kombo import PackageType, parse_event, signature
from core.kombo.events import AssessmentOrderReceived
from core.kombo.ids import MAX_EVENT_TYPE_LENGTH, MAX_ID_LENGTH
from core.settings import KomboSettings, Settings
from storage.database import Database
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository

pytestmark = pytest.mark.anyio
SECRET = "whsec-current-secret"
LONG = "x" * (MAX_ID_LENGTH + 1)
NUL = "order\x00id"


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / "kombo" / f"{name}.json").read_text())
    body["id"] = uuid.uuid4().hex
    if "id" in body["data"]:
        body["data"]["id"] = uuid.uuid4().hex
    return body


def order(**changes: str) -> dict[str, Any]:
    body = fixture("webhook_assessment_order_received")
    body["data"].update(changes)
    return body


def poke(name: str, path: tuple[str, ...], value: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        body = fixture(name)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return body

    return build


HOSTILE: dict[str, Callable[[], dict[str, Any]]] = {
    "event id too long": lambda: {**order(), "id": LONG},
    "event id with NUL": lambda: {**order(), "id": NUL},
    "order id too long": lambda: order(id=LONG),
    "order id with NUL": lambda: order(id=NUL),
    "order id with a newline": lambda: order(id="order\nid"),
    "order id with a final newline": lambda: order(id="order-id\n"),
    "package id too long": lambda: order(package_id=LONG),
    "package id with NUL": lambda: order(package_id=NUL),
    "integration id too long": lambda: order(integration_id=LONG),
    "integration id with NUL": lambda: order(integration_id=NUL),
    "inline order id too long": poke("webhook_inline_assessment_order_received", ("data", "id"), LONG),
    "inline package id with NUL": poke("webhook_inline_assessment_order_received", ("data", "package_id"), NUL),
    "created integration id too long": poke("webhook_integration_created", ("data", "id"), LONG),
    "created integration id with NUL": poke("webhook_integration_created", ("data", "id"), NUL),
    "deleted integration id too long": poke("webhook_integration_deleted", ("data", "id"), LONG),
    "deleted integration id with NUL": poke("webhook_integration_deleted", ("data", "id"), NUL),
    "state change integration id too long": poke("webhook_integration_state_changed", ("data", "integration_id"), LONG),
    "state change integration id with NUL": poke("webhook_integration_state_changed", ("data", "integration_id"), NUL),
    "state too long": poke("webhook_integration_state_changed", ("data", "state"), "ACTIVE" * 10),
    "state with NUL": poke("webhook_integration_state_changed", ("data", "state"), "ACT\x00IVE"),
    "unknown event id too long": lambda: {"id": LONG, "type": "data-changed", "data": {}},
    "unknown event id with NUL": lambda: {"id": NUL, "type": "data-changed", "data": {}},
    "unknown type too long": lambda: {"id": "e1", "type": "t" * (MAX_EVENT_TYPE_LENGTH + 1), "data": {}},
    "unknown type with NUL": lambda: {"id": "e1", "type": "data\x00changed", "data": {}},
}


@pytest.fixture
async def client(db: Database, test_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    settings_off = msgspec.structs.replace(test_settings, embedded_worker="off")
    async with AsyncTestClient(create_app(settings_off)) as test_client:
        yield test_client


async def deliver(client: AsyncTestClient[Any], body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-kombo-signature": signature.sign(SECRET, raw)}
    return await client.post("/kombo/webhooks", content=raw, headers=headers)


async def stored(db: Database) -> tuple[int, int]:
    events = await db.fetch("SELECT COUNT(*) AS n FROM webhook_event")
    orders = await db.fetch("SELECT COUNT(*) AS n FROM assessment_order")
    return int(events[0]["n"]), int(orders[0]["n"])


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_id_is_a_400_on_both_engines_and_stores_nothing(
    client: AsyncTestClient[Any], db: Database, case: str
) -> None:
    response = await deliver(client, HOSTILE[case]())
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "\x00" not in response.text
    assert await stored(db) == (0, 0)


async def test_ids_of_exactly_the_longest_length_are_still_taken(client: AsyncTestClient[Any], db: Database) -> None:
    longest = "k" * MAX_ID_LENGTH
    body = order(id=longest, package_id="p" * MAX_ID_LENGTH, integration_id="i" * MAX_ID_LENGTH)
    body["id"] = "e" * MAX_ID_LENGTH
    response = await deliver(client, body)
    assert response.status_code == 200, response.text  # held: no tenant holds that integration
    rows = await db.fetch("SELECT kombo_order_id FROM assessment_order")
    assert [r["kombo_order_id"] for r in rows] == [longest]


IDS = st.text(st.characters(codec="utf-8"), max_size=MAX_ID_LENGTH + 20)


@given(event_id=IDS, order_id=IDS, package_id=IDS, integration_id=IDS)
def test_a_parsed_order_event_only_ever_holds_storable_ids(
    event_id: str, order_id: str, package_id: str, integration_id: str
) -> None:
    body = copy.deepcopy(order(id=order_id, package_id=package_id, integration_id=integration_id))
    body["id"] = event_id
    try:
        event = parse_event(json.dumps(body).encode())
    except PayloadInvalid:
        return
    assert isinstance(event, AssessmentOrderReceived)
    data = event.data
    for value in (event.id, data.id, data.package_id, data.integration_id):
        assert 0 < len(value) <= MAX_ID_LENGTH
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


async def test_reconciliation_skips_an_order_whose_ids_cannot_be_stored(
    db: Database, test_settings: Settings, sandbox: SandboxHandle
) -> None:
    """Kombo's order list goes through the same intake: one poison order must neither fail the job on
    PostgreSQL nor stop the orders after it."""
    integration = sandbox.new_integration()
    sandbox.place_order(integration, "p" * (MAX_ID_LENGTH + 50))
    sandbox.place_order(integration, "acme-java-senior-v2")
    tenant = await TenantRepository(db).create(name="Acme", external_id=None)
    await TenantRepository(db).bind_integration(tenant.id, integration)
    package = TenantPackage(id="acme-java-senior-v2", type=PackageType.SKILLS_TEST, name="Java", description="")
    await Catalogs(db, max_deletion_share=0.5).set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)
    settings = msgspec.structs.replace(
        test_settings, kombo=KomboSettings(api_url=sandbox.api_url, api_key=API_KEY, webhook_secrets=("x",))
    )
    async with AiohttpExchange(tls=tls_context()) as http:
        kombo = KomboClient(http, base_url=settings.kombo.api_url, api_key=API_KEY)
        async with gateway_for(db, settings, {"accept_all": AcceptAll()}, kombo=kombo) as gateway:
            assert await gateway.reconciliation.reconcile(tenant.id) == 1
    rows = await db.fetch("SELECT package_id FROM assessment_order")
    assert [r["package_id"] for r in rows] == ["acme-java-senior-v2"]


class AcceptAll:
    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        return Accept()

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        return None
