"""API key scopes and who minted each key; the audit log of what operators and tenant keys did.

Keys that exist already get every tenant scope but ``keys:manage`` (``core.permissions.LEGACY_SCOPES``):
they keep what they could do, except minting keys, which let a leaked key outlive its own revocation.
"""

from __future__ import annotations

from core.permissions import LEGACY_SCOPES, encode_scopes
from tenants.db import Dialect

ID = "0012_key_scopes_and_audit"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    legacy = encode_scopes(LEGACY_SCOPES)
    return [
        f"ALTER TABLE tenant_api_key ADD COLUMN scopes TEXT NOT NULL DEFAULT '{legacy}'",
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
