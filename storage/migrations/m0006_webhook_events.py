"""Kombo's webhook events: the de-duplication record and each tenant's event log."""

from __future__ import annotations

from storage.database import Dialect

ID = "0006_webhook_events"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE webhook_event (
            event_id VARCHAR(200) PRIMARY KEY,
            type VARCHAR(100) NOT NULL,
            tenant_id UUID REFERENCES tenant (id) ON DELETE RESTRICT,
            integration_id VARCHAR(200),
            received_at TIMESTAMPTZ NOT NULL,
            body_sha256 VARCHAR(64) NOT NULL,
            response_status INTEGER NOT NULL,
            response_body TEXT NOT NULL,
            note TEXT,
            data TEXT
        )
        """,
        "CREATE INDEX webhook_event_tenant ON webhook_event (tenant_id, received_at)",
    ]
