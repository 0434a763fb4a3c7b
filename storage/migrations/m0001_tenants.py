"""Tenants: the vendor's customers, each later bound to one Kombo integration."""

from __future__ import annotations

from storage.database import Dialect

ID = "0001_tenants"


def statements(dialect: Dialect) -> list[str]:
    del dialect  # the same DDL serves both engines (piccolo's SQLite converters key on these type names)
    return [
        """
        CREATE TABLE tenant (
            id UUID PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            external_id VARCHAR(200) UNIQUE,
            integration_id VARCHAR(200) UNIQUE,
            integration_state VARCHAR(20),
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX tenant_created_at ON tenant (created_at, id)",
    ]
