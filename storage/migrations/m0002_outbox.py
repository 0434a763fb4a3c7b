"""The outbox: durable, tenant-owned jobs claimed with leases (see jobs/lifecycle.py for the lifecycle)."""

from __future__ import annotations

from storage.database import Dialect

ID = "0002_outbox"


def statements(dialect: Dialect) -> list[str]:
    del dialect  # portable DDL: epoch-ms BIGINTs order identically on both engines
    return [
        """
        CREATE TABLE outbox_job (
            id UUID PRIMARY KEY,
            tenant_id UUID REFERENCES tenant (id) ON DELETE RESTRICT,
            kind VARCHAR(100) NOT NULL,
            payload TEXT NOT NULL,
            dedupe_key VARCHAR(300) UNIQUE,
            state VARCHAR(20) NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            available_at_ms BIGINT NOT NULL,
            lease_until_ms BIGINT,
            lease_owner VARCHAR(100),
            last_error TEXT,
            created_at_ms BIGINT NOT NULL,
            updated_at_ms BIGINT NOT NULL
        )
        """,
        "CREATE INDEX outbox_job_claim ON outbox_job (state, available_at_ms)",
        "CREATE INDEX outbox_job_tenant ON outbox_job (tenant_id, state)",
    ]
