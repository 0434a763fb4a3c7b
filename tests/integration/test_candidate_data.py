"""Candidate form data: encrypted and bound to its tenant and order, purged after its retention period."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from core.errors import CredentialError
from core.settings import Settings
from orders.candidate_data import CandidateData
from orders.store import OrderRecord, Orders
from storage.database import Database
from tenants.repository import TenantRepository
from tenants.vault import Vault

pytestmark = pytest.mark.anyio


async def an_order(db: Database, tenant_id: uuid.UUID) -> uuid.UUID:
    record = OrderRecord(
        id=uuid.uuid4(),
        kombo_order_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        integration_id="i",
        package_id="p",
        package_type="BACKGROUND_CHECK",
        inline=False,
        state="accepted",
        adapter="background_check",
        rejection_message=None,
        assessment_url=None,
        source="webhook",
        order_json="{}",
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    assert await Orders(db).insert(record)
    return record.id


async def test_answers_past_their_retention_are_purged(db: Database, test_settings: Settings) -> None:
    tenant = await TenantRepository(db).create(name="T", external_id=None)
    old, new = await an_order(db, tenant.id), await an_order(db, tenant.id)
    store = CandidateData(db, Vault(db, test_settings.secret_keys))
    now = datetime.now(UTC)
    await store.store(
        uuid.uuid4(), tenant.id, old, {"dob": "1990-01-01"}, at=now - timedelta(days=31), retention_days=30
    )
    await store.store(uuid.uuid4(), tenant.id, new, {"dob": "1991-01-01"}, at=now, retention_days=30)

    assert await store.purge(now=now) == 1
    assert await store.purge(now=now) == 0
    assert await store.read(tenant.id, old) is None
    assert await store.read(tenant.id, new) == {"dob": "1991-01-01"}
    rows = await db.fetch("SELECT order_id, ciphertext, field_names, purged_at FROM candidate_data")
    by_order = {row["order_id"]: row for row in rows}
    assert (by_order[old]["ciphertext"], by_order[old]["field_names"]) == (None, "dob")  # the audit trail stays
    assert by_order[old]["purged_at"] is not None
    assert "1991" not in by_order[new]["ciphertext"]


async def test_answers_are_bound_to_their_tenant(db: Database, test_settings: Settings) -> None:
    repo = TenantRepository(db)
    a, b = await repo.create(name="A", external_id=None), await repo.create(name="B", external_id=None)
    order = await an_order(db, a.id)
    store = CandidateData(db, Vault(db, test_settings.secret_keys))
    await store.store(uuid.uuid4(), a.id, order, {"dob": "1990-01-01"}, at=datetime.now(UTC), retention_days=1)
    assert await store.read(b.id, order) is None  # another tenant does not even find the row
    await db.fetch("UPDATE candidate_data SET tenant_id = {}", b.id)  # a row moved by hand does not decrypt
    with pytest.raises(CredentialError):
        await store.read(b.id, order)


async def test_key_rotation_reencrypts_candidate_answers_too(db: Database, test_settings: Settings) -> None:
    tenant = await TenantRepository(db).create(name="T", external_id=None)
    order = await an_order(db, tenant.id)
    old_key, new_key = test_settings.secret_keys[0], Fernet.generate_key().decode()
    await CandidateData(db, Vault(db, [old_key])).store(
        uuid.uuid4(), tenant.id, order, {"dob": "1990-01-01"}, at=datetime.now(UTC), retention_days=1
    )
    ring = Vault(db, [new_key, old_key])
    assert await ring.pending_rotation() == 1
    assert await ring.rotate() == 1
    assert await CandidateData(db, Vault(db, [new_key])).read(tenant.id, order) == {"dob": "1990-01-01"}


async def test_the_hourly_purge_job_is_registered_and_purges(db: Database, test_settings: Settings) -> None:
    from api.composition import build_gateway
    from jobs.kinds import JobContext

    tenant = await TenantRepository(db).create(name="T", external_id=None)
    order = await an_order(db, tenant.id)
    store = CandidateData(db, Vault(db, test_settings.secret_keys))
    await store.store(uuid.uuid4(), tenant.id, order, {"dob": "x"}, at=datetime.now(UTC), retention_days=1)
    later = int((datetime.now(UTC) + timedelta(days=2)).timestamp() * 1000)
    registry = build_gateway(test_settings, db=db, clock=lambda: later).registry
    assert any(job.kind == "candidate_data.purge" for job in registry.periodic)
    kind = registry.get("candidate_data.purge")
    assert kind is not None
    assert kind.handler is not None  # a kind that runs one job at a time
    context = JobContext(job_id="j", tenant_id=None, kind=kind.name, attempt=1, idempotency_key="k")
    await kind.handler(kind.payload_type(), context)
    assert await store.read(tenant.id, order) is None
