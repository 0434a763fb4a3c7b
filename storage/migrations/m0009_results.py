"""Results the vendor's platform submits for orders, and files uploaded to attach to them."""

from __future__ import annotations

from storage.database import Dialect

ID = "0009_results"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE order_result (
            id UUID PRIMARY KEY,
            order_id UUID NOT NULL REFERENCES assessment_order (id) ON DELETE RESTRICT,
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            body TEXT NOT NULL,
            body_hash VARCHAR(64) NOT NULL,
            status VARCHAR(20) NOT NULL,
            write_back VARCHAR(20) NOT NULL,
            created_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX order_result_order ON order_result (order_id, created_at)",
        """
        CREATE TABLE result_upload (
            id UUID PRIMARY KEY,
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            name VARCHAR(300) NOT NULL,
            content_type VARCHAR(200) NOT NULL,
            data TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at TIMESTAMPTZ NOT NULL
        )
        """,
    ]
