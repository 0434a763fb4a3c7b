"""Candidate details in orders: erased once a finished order is past its retention period, kept otherwise."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from agtest import FIXTURES
from agtest.audit import dump
from core.clock import wall_clock_ms
from core.kombo import AssessmentOrderReceived, parse_event
from orders.retention import OrderRetention
from orders.store import OrderRecord, Orders
from storage.database import Database
from tenants.repository import TenantRepository

pytestmark = pytest.mark.anyio


async def an_order(db: Database, tenant_id: uuid.UUID, *, email: str, state: str, age_days: int) -> uuid.UUID:
    event = parse_event((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_bytes())
    assert isinstance(event, AssessmentOrderReceived)
    data = msgspec.structs.replace(
        event.data, id=uuid.uuid4().hex, candidate=msgspec.structs.replace(event.data.candidate, email=email)
    )
    at = datetime.now(UTC) - timedelta(days=age_days)
    record = OrderRecord(
        id=uuid.uuid4(),
        kombo_order_id=data.id,
        tenant_id=tenant_id,
        integration_id=data.integration_id,
        package_id=data.package_id,
        package_type="SKILLS_TEST",
        inline=False,
        state=state,
        adapter="accept",
        rejection_message=None,
        assessment_url=None,
        source="webhook",
        order_json=msgspec.json.encode(data).decode(),
        created_at=at,
        updated_at=at,
    )
    assert await Orders(db).insert(record)
    return record.id


async def test_finished_orders_past_retention_lose_the_candidates_details(db: Database) -> None:
    tenant = await TenantRepository(db).create(name="T", external_id=None)
    old = await an_order(db, tenant.id, email="old.finished@example.org", state="completed", age_days=200)
    recent = await an_order(db, tenant.id, email="recent.finished@example.org", state="cancelled", age_days=10)
    still_open = await an_order(db, tenant.id, email="old.open@example.org", state="accepted", age_days=400)
    retention = OrderRetention(db, retention_days=180, clock_ms=wall_clock_ms)

    assert await retention.purge() == 1
    assert await retention.purge() == 0  # done once

    everything = await dump(db)
    assert "old.finished@example.org" not in everything
    assert "recent.finished@example.org" in everything
    assert "old.open@example.org" in everything  # an open order still needs its candidate
    erased = await Orders(db).get(old, tenant_id=tenant.id)
    assert erased is not None
    candidate = msgspec.json.decode(erased.order_json)["candidate"]
    assert (candidate["email"], candidate["first_name"], candidate["last_name"]) == ("", None, None)
    assert candidate["remote_id"]  # the ATS's id stays, so the order can still be matched
    kinds = [entry.kind for entry in await Orders(db).timeline(old)]
    assert kinds == ["pii.purged"]
    assert [entry.kind for entry in await Orders(db).timeline(recent)] == []
    assert [entry.kind for entry in await Orders(db).timeline(still_open)] == []
