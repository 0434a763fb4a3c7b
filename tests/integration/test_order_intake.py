"""The order intake's decisions one by one: the adapter's deadline, late rejections written back as
CANCELLED, candidates without email, duplicates, and a tenant with open orders refusing deletion."""

from __future__ import annotations

import asyncio
import random
import uuid

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from agtest import FIXTURES
from agtest.runtime import gateway_for, intake_for, runtime_for
from agtest.sandbox_support import API_KEY, SandboxHandle
from api.app import create_app
from core.adapters import Accept, AdapterContext, Decision, OrderView, Reject
from core.catalog import TenantPackage
from core.clock import wall_clock_ms
from core.kombo import AssessmentOrderReceived, OrderReceivedData, PackageType, parse_event
from core.settings import KomboSettings, Settings
from jobs.worker import Worker
from orders.intake import IntakeCounters, OrderIntake
from storage.database import Database
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository

pytestmark = pytest.mark.anyio


class Scripted:
    """An adapter that sleeps, then decides as told."""

    def __init__(self, decision: Decision, delay_s: float = 0) -> None:
        self.decision = decision
        self.delay_s = delay_s
        self.started: list[uuid.UUID] = []

    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        await asyncio.sleep(self.delay_s)
        return self.decision

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        self.started.append(order.id)


def sample_order(integration_id: str, email: str = "ines@example.net") -> OrderReceivedData:
    event = parse_event((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_bytes())
    assert isinstance(event, AssessmentOrderReceived)
    data = event.data
    candidate = msgspec.structs.replace(data.candidate, email=email)
    return msgspec.structs.replace(data, integration_id=integration_id, candidate=candidate, id=uuid.uuid4().hex)


async def tenant_with_catalog(db: Database, integration_id: str) -> uuid.UUID:
    tenant = await TenantRepository(db).create(name="Acme", external_id=None)
    await TenantRepository(db).bind_integration(tenant.id, integration_id)
    package = TenantPackage(id="acme-java-senior-v2", type=PackageType.SKILLS_TEST, name="Java", description="")
    await Catalogs(db, max_deletion_share=0.5).set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)
    return tenant.id


async def test_a_decide_that_overruns_its_deadline_accepts_the_order(db: Database, test_settings: Settings) -> None:
    await tenant_with_catalog(db, "sandbox:deadline")
    slow = Scripted(Reject(message="too late to matter"), delay_s=5)
    intake = intake_for(db, msgspec.structs.replace(test_settings, decide_deadline_s=0.2), slow)
    answer = await intake.ingest(sample_order("sandbox:deadline"), inline=False, source="webhook")
    assert (answer.status, answer.body) == (200, {"received": True})
    rows = await db.fetch("SELECT state FROM assessment_order")
    assert [r["state"] for r in rows] == ["accepted"]
    notes = await db.fetch("SELECT detail FROM order_timeline WHERE kind = 'accepted'")
    assert "overran" in notes[0]["detail"]


async def test_a_reject_nobody_waited_for_is_written_back_as_cancelled(
    db: Database, test_settings: Settings, sandbox: SandboxHandle
) -> None:
    integration = sandbox.new_integration()
    placed = sandbox.place_order(integration, "acme-java-senior-v2")  # the receiver accepts; we reconcile it
    await tenant_with_catalog(db, integration)
    settings = msgspec.structs.replace(
        test_settings, kombo=KomboSettings(api_url=sandbox.api_url, api_key=API_KEY, webhook_secrets=("x",))
    )
    refusing = Scripted(Reject(message="The candidate took this test last month."))
    async with AiohttpExchange(tls=tls_context()) as http:
        kombo = KomboClient(http, base_url=settings.kombo.api_url, api_key=API_KEY)
        async with gateway_for(db, settings, {"scripted": refusing}, kombo=kombo) as gateway:
            tenant = await TenantRepository(db).by_integration(integration)
            assert tenant is not None
            tenant_id = tenant.id
            assert await gateway.reconciliation.reconcile(tenant_id) == 1
            assert await gateway.reconciliation.reconcile(tenant_id) == 0  # known now
            await Worker(db, gateway.registry, rng=random.Random(1)).drain()
    state = sandbox.control.get(f"/_sandbox/orders/{placed['id']}").json()
    assert state["status"] == "CANCELLED"
    assert state["result"]["attributes"] == [
        {"type": "TEXT", "label": "Reason", "value": "The candidate took this test last month."}
    ]
    kinds = [r["kind"] for r in await db.fetch("SELECT kind FROM order_timeline ORDER BY at")]
    assert kinds == ["received", "rejected", "written_back"]


async def test_a_candidate_without_email_is_rejected_with_a_useful_message(
    db: Database, test_settings: Settings
) -> None:
    await tenant_with_catalog(db, "sandbox:noemail")
    intake = intake_for(db, test_settings, Scripted(Accept()))
    answer = await intake.ingest(sample_order("sandbox:noemail", email="  "), inline=False, source="webhook")
    assert answer.status == 422
    assert "no email address" in answer.body["message"]


async def test_the_same_order_twice_is_decided_once(db: Database, test_settings: Settings) -> None:
    await tenant_with_catalog(db, "sandbox:twice")
    adapter = Scripted(Accept())
    intake = intake_for(db, test_settings, adapter)
    order = sample_order("sandbox:twice")
    answers = await asyncio.gather(*(intake.ingest(order, inline=False, source="webhook") for _ in range(5)))
    assert {(a.status, str(a.body)) for a in answers} == {(200, str({"received": True}))}
    assert len(await db.fetch("SELECT id FROM assessment_order")) == 1
    jobs = await db.fetch("SELECT id FROM outbox_job WHERE kind = 'order.start'")
    assert len(jobs) == 1


async def test_the_reject_body_shape_is_configurable(db: Database, test_settings: Settings) -> None:
    await tenant_with_catalog(db, "sandbox:shape")
    settings = msgspec.structs.replace(test_settings, reject_body="error_envelope")
    intake = intake_for(db, settings, Scripted(Reject(message="no")))
    answer = await intake.ingest(sample_order("sandbox:shape"), inline=False, source="webhook")
    assert (answer.status, answer.body) == (422, {"status": "error", "error": {"message": "no"}})


async def test_a_tenant_with_open_orders_is_not_deleted_without_force(db: Database, test_settings: Settings) -> None:
    tenant_id = await tenant_with_catalog(db, "sandbox:open")
    await intake_for(db, test_settings, Scripted(Accept())).ingest(
        sample_order("sandbox:open"), inline=False, source="webhook"
    )
    admin = {"authorization": f"Bearer {test_settings.admin_token}"}
    async with AsyncTestClient(create_app(msgspec.structs.replace(test_settings, embedded_worker="off"))) as client:
        refused = await client.delete(f"/v1/tenants/{tenant_id}", headers=admin)
        forced = await client.delete(f"/v1/tenants/{tenant_id}", params={"force": "true"}, headers=admin)
    assert refused.status_code == 409
    assert "1 open order" in refused.json()["detail"]
    assert forced.status_code == 204


async def test_a_tenant_may_route_a_package_type_to_another_adapter(db: Database, test_settings: Settings) -> None:
    tenant_id = await tenant_with_catalog(db, "sandbox:routes")
    default, special = Scripted(Accept()), Scripted(Reject(message="routed to the special adapter"))
    runtime = runtime_for(db, test_settings, {"accept": default, "special": special})
    intake = OrderIntake(db, test_settings, runtime, IntakeCounters(), wall_clock_ms)
    first = await intake.ingest(sample_order("sandbox:routes"), inline=False, source="webhook")
    await TenantRepository(db).set_routes(tenant_id, {"SKILLS_TEST": "special"})
    second = await intake.ingest(sample_order("sandbox:routes"), inline=False, source="webhook")
    assert first.status == 200
    assert (second.status, second.body) == (422, {"message": "routed to the special adapter"})
    rows = await db.fetch("SELECT adapter FROM assessment_order ORDER BY created_at")
    assert [r["adapter"] for r in rows] == ["accept", "special"]


async def test_the_routes_api_validates_keys_and_adapter_names(db: Database, test_settings: Settings) -> None:
    tenant = await TenantRepository(db).create(name="R", external_id=None)
    admin = {"authorization": f"Bearer {test_settings.admin_token}"}
    async with AsyncTestClient(create_app(msgspec.structs.replace(test_settings, embedded_worker="off"))) as client:
        bad = await client.put(
            f"/v1/tenants/{tenant.id}/routes",
            json={"routes": {"CODING": "accept", "SKILLS_TEST": "nope"}},
            headers=admin,
        )
        good = await client.put(f"/v1/tenants/{tenant.id}/routes", json={"routes": {"inline": "accept"}}, headers=admin)
        shown = await client.get(f"/v1/tenants/{tenant.id}/routes", headers=admin)
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"$.routes.CODING", "$.routes.SKILLS_TEST"}
    assert good.status_code == 200
    assert shown.json() == {"routes": {"inline": "accept"}}
