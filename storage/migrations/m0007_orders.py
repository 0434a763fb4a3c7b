"""Orders received from Kombo (routed to a tenant, or held until their integration is bound) and their timeline."""

from __future__ import annotations

from storage.database import Dialect

ID = "0007_orders"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE assessment_order (
            id UUID PRIMARY KEY,
            kombo_order_id VARCHAR(200) NOT NULL UNIQUE,
            tenant_id UUID REFERENCES tenant (id) ON DELETE RESTRICT,
            integration_id VARCHAR(200) NOT NULL,
            package_id VARCHAR(200) NOT NULL,
            package_type VARCHAR(40),
            inline BOOLEAN NOT NULL,
            state VARCHAR(20) NOT NULL,
            adapter VARCHAR(100),
            rejection_message TEXT,
            assessment_url TEXT,
            source VARCHAR(20) NOT NULL,
            order_json TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX assessment_order_tenant ON assessment_order (tenant_id, created_at, id)",
        "CREATE INDEX assessment_order_integration ON assessment_order (integration_id, state)",
        """
        CREATE TABLE order_timeline (
            id UUID PRIMARY KEY,
            order_id UUID NOT NULL REFERENCES assessment_order (id) ON DELETE RESTRICT,
            at TIMESTAMPTZ NOT NULL,
            kind VARCHAR(60) NOT NULL,
            detail TEXT NOT NULL
        )
        """,
        "CREATE INDEX order_timeline_order ON order_timeline (order_id, at)",
    ]
