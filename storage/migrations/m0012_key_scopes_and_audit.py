"""API key scopes and who minted each key; the audit log of what operators and tenant keys did.

Keys that exist already get every tenant scope but ``keys:manage`` (``core.permissions.LEGACY_SCOPES`` as it
was when this step was written, spelled out below so the step never changes): they keep what they could do,
except minting keys, which let a leaked key outlive its own revocation. New rows always name their scopes; the
column's default is none at all.
"""

from __future__ import annotations

from typing import Final

from storage.database import Dialect

ID = "0012_key_scopes_and_audit"
LEGACY: Final = "catalog:write integration:manage orders:read results:write secrets:write tenant:read"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        "ALTER TABLE tenant_api_key ADD COLUMN scopes TEXT NOT NULL DEFAULT ''",
        f"UPDATE tenant_api_key SET scopes = '{LEGACY}'",
        # The key that created this one (NULL: the admin token); revoking a key revokes what it minted.
        "ALTER TABLE tenant_api_key ADD COLUMN created_by UUID",
        """
        CREATE TABLE audit_event (
            id UUID PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL,
            tenant_id UUID REFERENCES tenant (id) ON DELETE RESTRICT,
            actor VARCHAR(100) NOT NULL,
            action VARCHAR(100) NOT NULL,
            detail TEXT
        )
        """,
        "CREATE INDEX audit_event_tenant ON audit_event (tenant_id, at)",
        "CREATE INDEX audit_event_at ON audit_event (at)",
    ]
