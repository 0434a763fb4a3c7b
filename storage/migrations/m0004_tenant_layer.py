"""The tenant layer: soft deletion, API keys, encrypted secrets, catalogs and their sync state."""

from __future__ import annotations

from storage.database import Dialect

ID = "0004_tenant_layer"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        "ALTER TABLE tenant ADD COLUMN deleted_at TIMESTAMPTZ",
        """
        CREATE TABLE tenant_api_key (
            id UUID PRIMARY KEY,
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            name VARCHAR(200) NOT NULL,
            key_hash VARCHAR(64) NOT NULL UNIQUE,
            created_at TIMESTAMPTZ NOT NULL,
            revoked_at TIMESTAMPTZ
        )
        """,
        """
        CREATE TABLE tenant_secret (
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            name VARCHAR(100) NOT NULL,
            ciphertext TEXT NOT NULL,
            key_id VARCHAR(32) NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (tenant_id, name)
        )
        """,
        """
        CREATE TABLE tenant_catalog (
            tenant_id UUID PRIMARY KEY REFERENCES tenant (id) ON DELETE RESTRICT,
            desired TEXT NOT NULL,
            accepted TEXT,
            version INTEGER NOT NULL,
            accepted_version INTEGER,
            sync_state VARCHAR(20) NOT NULL,
            last_error TEXT,
            warnings TEXT,
            updated_at TIMESTAMPTZ NOT NULL
        )
        """,
    ]
