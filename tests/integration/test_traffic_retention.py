"""Tables that grow with traffic are trimmed: uploaded attachments once written back and past their
retention, Kombo's webhook events past theirs; both as hourly jobs of every gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from agtest import FIXTURES
from api.composition import build_gateway
from core import signed_urls
from core.clock import as_datetime
from core.kombo import AssessmentOrderReceived, parse_event
from core.settings import Settings
from integrations.webhook_event_retention import WebhookEventRetention
from jobs.kinds import JobContext
from orders.result_uploads import Uploads
from orders.store import OrderRecord, Orders
from storage.database import Database
from tenants.repository import TenantRepository

pytestmark = pytest.mark.anyio
DAY_MS = 86_400_000
START_MS = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


class Clock:
    def __init__(self) -> None:
        self.now_ms = START_MS

    def __call__(self) -> int:
        return self.now_ms


async def an_order(db: Database, tenant_id: uuid.UUID) -> uuid.UUID:
    event = parse_event((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_bytes())
    assert isinstance(event, AssessmentOrderReceived)
    data = msgspec.structs.replace(event.data, id=uuid.uuid4().hex)
    record = OrderRecord(
        id=uuid.uuid4(),
        kombo_order_id=data.id,
        tenant_id=tenant_id,
        integration_id=data.integration_id,
        package_id=data.package_id,
        package_type="SKILLS_TEST",
        inline=False,
        state="accepted",
        adapter="accept",
        rejection_message=None,
        assessment_url=None,
        source="webhook",
        order_json=msgspec.json.encode(data).decode(),
        created_at=as_datetime(START_MS),
        updated_at=as_datetime(START_MS),
    )
    assert await Orders(db).insert(record)
    return record.id


async def a_result(db: Database, tenant_id: uuid.UUID, upload_id: uuid.UUID, *, write_back: str) -> None:
    """A result naming the upload (spelled as a client may: upper case), in the given write-back state."""
    body = {"status": "COMPLETED", "attachments": [{"name": "r.pdf", "upload_id": str(upload_id).upper()}]}
    await db.fetch(
        "INSERT INTO order_result (id, order_id, tenant_id, body, body_hash, status, write_back, created_at)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
        uuid.uuid4(),
        await an_order(db, tenant_id),
        tenant_id,
        msgspec.json.encode(body).decode(),
        uuid.uuid4().hex,
        "COMPLETED",
        write_back,
        as_datetime(START_MS),
    )


async def upload_ids(db: Database) -> set[uuid.UUID]:
    return {uuid.UUID(str(row["id"])) for row in await db.fetch("SELECT id FROM result_upload")}


async def test_uploads_past_retention_go_once_no_waiting_result_needs_them(db: Database) -> None:
    tenant = await TenantRepository(db).create(name="T", external_id=None)
    clock = Clock()
    uploads = Uploads(db, secret_key="k" * 32, base_url="http://gw", url_ttl_s=60, clock_ms=clock, retention_days=30)

    async def upload(name: str) -> uuid.UUID:
        return (await uploads.upload(tenant.id, name, "application/pdf", b"%PDF-1.4 " + name.encode())).id

    written = await upload("written.pdf")
    never_named = await upload("never-named.pdf")
    queued = await upload("queued.pdf")
    failed = await upload("failed.pdf")  # its write-back died: an operator may still retry it
    written_too = await upload("written-too.pdf")
    for upload_id, state in ((written, "written"), (queued, "queued"), (failed, "failed"), (written_too, "written")):
        await a_result(db, tenant.id, upload_id, write_back=state)
    clock.now_ms += 29 * DAY_MS
    recent = await upload("recent.pdf")
    await a_result(db, tenant.id, recent, write_back="written")

    assert await uploads.purge(batch=2) == 0  # nothing is 30 days old yet
    clock.now_ms += 2 * DAY_MS
    # Small batches: the kept ones between the deleted ones must not stop the walk.
    assert await uploads.purge(batch=2) == 3
    assert await upload_ids(db) == {queued, failed, recent}  # written, never_named and written_too are gone
    expires = clock.now_ms // 1000 + 60
    assert await uploads.download(written, expires, signed_urls.sign("k" * 32, str(written), expires)) is None
    assert await uploads.download(queued, expires, signed_urls.sign("k" * 32, str(queued), expires)) is not None
    assert {written, never_named, written_too}.isdisjoint(await upload_ids(db))
    assert await uploads.purge(batch=2) == 0

    await db.fetch("UPDATE order_result SET write_back = 'written'")  # the operator's retry went through
    clock.now_ms += 30 * DAY_MS
    assert await uploads.purge() == 3
    assert await upload_ids(db) == set()


async def test_webhook_events_past_retention_are_deleted_in_batches(db: Database) -> None:
    clock = Clock()

    async def an_event(event_id: str, age_days: int) -> None:
        await db.fetch(
            "INSERT INTO webhook_event (event_id, type, received_at, body_sha256, response_status, response_body)"
            " VALUES ({}, {}, {}, {}, {}, {})",
            event_id,
            "integration-state-changed",
            as_datetime(clock.now_ms - age_days * DAY_MS),
            "0" * 64,
            200,
            '{"received":true}',
        )

    for n in range(5):
        await an_event(f"old-{n}", age_days=31)
    await an_event("young", age_days=29)
    retention = WebhookEventRetention(db, retention_days=30, clock_ms=clock)
    assert await retention.purge(batch=2) == 5
    rows = await db.fetch("SELECT event_id FROM webhook_event")
    assert [row["event_id"] for row in rows] == ["young"]
    assert await retention.purge(batch=2) == 0


async def test_both_purges_are_hourly_jobs_of_every_gateway(db: Database, test_settings: Settings) -> None:
    clock = Clock()
    registry = build_gateway(test_settings, db=db, clock=clock).registry
    periodic = {job.kind: job.every_ms for job in registry.periodic}
    assert periodic["result_uploads.purge"] == periodic["webhook_events.purge"] == 3_600_000
    tenant = await TenantRepository(db).create(name="T", external_id=None)
    uploads = Uploads(db, secret_key="k" * 32, base_url="http://gw", url_ttl_s=60, clock_ms=clock)
    await uploads.upload(tenant.id, "old.pdf", "application/pdf", b"%PDF")
    clock.now_ms += (test_settings.attachment_retention_days + 1) * DAY_MS
    for name in ("result_uploads.purge", "webhook_events.purge"):
        kind = registry.get(name)
        assert kind is not None
        assert kind.handler is not None  # a kind that runs one job at a time
        context = JobContext(job_id="j", tenant_id=None, kind=name, attempt=1, idempotency_key="k")
        await kind.handler(kind.payload_type(), context)
    assert await upload_ids(db) == set()
