"""What the adapters' runtime keeps: tenants' adapter settings, redeemed candidate links, and the
candidate's form data (encrypted, purged after its retention period)."""

from __future__ import annotations

from storage.database import Dialect

ID = "0010_adapter_runtime"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE tenant_adapter_settings (
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            adapter VARCHAR(100) NOT NULL,
            settings TEXT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (tenant_id, adapter)
        )
        """,
        """
        CREATE TABLE candidate_link_use (
            order_id UUID NOT NULL REFERENCES assessment_order (id) ON DELETE RESTRICT,
            purpose VARCHAR(40) NOT NULL,
            used_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (order_id, purpose)
        )
        """,
        """
        CREATE TABLE candidate_data (
            id UUID PRIMARY KEY,
            order_id UUID NOT NULL UNIQUE REFERENCES assessment_order (id) ON DELETE RESTRICT,
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            ciphertext TEXT,
            key_id VARCHAR(16),
            field_names TEXT NOT NULL,
            submitted_at TIMESTAMPTZ NOT NULL,
            purge_after TIMESTAMPTZ NOT NULL,
            purged_at TIMESTAMPTZ
        )
        """,
        "CREATE INDEX candidate_data_purge ON candidate_data (purge_after)",
    ]
