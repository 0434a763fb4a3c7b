"""Piccolo tables: the persistence model only. Rows become core Structs at the repository edge.

Every column here must exist in the migrated schema (``storage/migrations``); a test compares the two
on both engines.
"""

from __future__ import annotations

from typing import Final

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Tenant(Table, tablename="tenant"):
    id = UUID(primary_key=True)
    name = Varchar(length=200, null=False)
    external_id = Varchar(length=200, null=True, unique=True, default=None)
    integration_id = Varchar(length=200, null=True, unique=True, default=None)
    integration_state = Varchar(length=20, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    deleted_at = Timestamptz(null=True, default=None)


class TenantApiKey(Table, tablename="tenant_api_key"):
    id = UUID(primary_key=True)
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id")
    name = Varchar(length=200)
    key_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    scopes = Text()
    created_by = UUID(null=True, default=None)


class TenantSecret(Table, tablename="tenant_secret"):
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id", primary_key=True)
    name = Varchar(length=100)
    ciphertext = Text()
    key_id = Varchar(length=32)
    updated_at = Timestamptz()


class TenantCatalog(Table, tablename="tenant_catalog"):
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id", primary_key=True)
    desired = Text()
    accepted = Text(null=True, default=None)
    version = Integer()
    accepted_version = Integer(null=True, default=None)
    sync_state = Varchar(length=20)
    last_error = Text(null=True, default=None)
    warnings = Text(null=True, default=None)
    updated_at = Timestamptz()


class VendorCatalog(Table, tablename="vendor_catalog"):
    id = Integer(primary_key=True)
    packages = Text()
    version = Integer()
    updated_at = Timestamptz()


class WebhookEvent(Table, tablename="webhook_event"):
    event_id = Varchar(length=200, primary_key=True)
    type = Varchar(length=100)
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=True, db_column_name="tenant_id")
    integration_id = Varchar(length=200, null=True, default=None)
    received_at = Timestamptz()
    body_sha256 = Varchar(length=64)
    response_status = Integer()
    response_body = Text()
    note = Text(null=True, default=None)
    data = Text(null=True, default=None)


class AuditEvent(Table, tablename="audit_event"):
    """What an operator, a tenant key or Kombo did to a tenant: who, when, what."""

    id = UUID(primary_key=True)
    at = Timestamptz()
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=True, db_column_name="tenant_id")
    actor = Varchar(length=100)
    action = Varchar(length=100)
    detail = Text(null=True, default=None)


class AssessmentOrder(Table, tablename="assessment_order"):
    id = UUID(primary_key=True)
    kombo_order_id = Varchar(length=200, unique=True)
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=True, db_column_name="tenant_id")
    integration_id = Varchar(length=200)
    package_id = Varchar(length=200)
    package_type = Varchar(length=40, null=True, default=None)
    inline = Boolean()
    state = Varchar(length=20)
    adapter = Varchar(length=100, null=True, default=None)
    rejection_message = Text(null=True, default=None)
    assessment_url = Text(null=True, default=None)
    source = Varchar(length=20)
    order_json = Text()
    created_at = Timestamptz()
    updated_at = Timestamptz()
    pii_purged_at = Timestamptz(null=True, default=None)


class OrderTimeline(Table, tablename="order_timeline"):
    id = UUID(primary_key=True)
    order_id = ForeignKey(AssessmentOrder, on_delete=OnDelete.restrict, db_column_name="order_id")
    at = Timestamptz()
    kind = Varchar(length=60)
    detail = Text()


class TenantRoute(Table, tablename="tenant_route"):
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id", primary_key=True)
    route_key = Varchar(length=40)
    adapter = Varchar(length=100)


class OrderResult(Table, tablename="order_result"):
    id = UUID(primary_key=True)
    order_id = ForeignKey(AssessmentOrder, on_delete=OnDelete.restrict, db_column_name="order_id")
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id")
    body = Text()
    body_hash = Varchar(length=64)
    status = Varchar(length=20)
    write_back = Varchar(length=20)
    created_at = Timestamptz()


class ResultUpload(Table, tablename="result_upload"):
    id = UUID(primary_key=True)
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id")
    name = Varchar(length=300)
    content_type = Varchar(length=200)
    data = Text()
    size = Integer()
    created_at = Timestamptz()


class TenantAdapterSettings(Table, tablename="tenant_adapter_settings"):
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id", primary_key=True)
    adapter = Varchar(length=100)
    settings = Text()
    updated_at = Timestamptz()


class CandidateLinkUse(Table, tablename="candidate_link_use"):
    order_id = ForeignKey(AssessmentOrder, on_delete=OnDelete.restrict, db_column_name="order_id", primary_key=True)
    purpose = Varchar(length=40)
    used_at = Timestamptz()


class CandidateData(Table, tablename="candidate_data"):
    id = UUID(primary_key=True)
    order_id = ForeignKey(AssessmentOrder, on_delete=OnDelete.restrict, db_column_name="order_id", unique=True)
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, db_column_name="tenant_id")
    ciphertext = Text(null=True, default=None)
    key_id = Varchar(length=16, null=True, default=None)
    field_names = Text()
    submitted_at = Timestamptz()
    purge_after = Timestamptz()
    purged_at = Timestamptz(null=True, default=None)


class OutboxJob(Table, tablename="outbox_job"):
    id = UUID(primary_key=True)
    tenant_id = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=True, db_column_name="tenant_id")
    kind = Varchar(length=100)
    payload = Text()
    dedupe_key = Varchar(length=300, null=True, unique=True, default=None)
    state = Varchar(length=20)
    attempts = Integer()
    max_attempts = Integer()
    available_at_ms = BigInt()
    lease_until_ms = BigInt(null=True, default=None)
    lease_owner = Varchar(length=100, null=True, default=None)
    last_error = Text(null=True, default=None)
    created_at_ms = BigInt()
    updated_at_ms = BigInt()


class SandboxSnapshot(Table, tablename="sandbox_snapshot"):
    id = Integer(primary_key=True)
    snapshot = Text()
    updated_at = Timestamptz()


TABLES: Final[tuple[type[Table], ...]] = (
    Tenant,
    TenantApiKey,
    TenantSecret,
    TenantCatalog,
    VendorCatalog,
    WebhookEvent,
    AuditEvent,
    AssessmentOrder,
    OrderTimeline,
    TenantRoute,
    OrderResult,
    ResultUpload,
    TenantAdapterSettings,
    CandidateLinkUse,
    CandidateData,
    OutboxJob,
    SandboxSnapshot,
)
