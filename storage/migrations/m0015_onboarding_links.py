"""Each tenant's current onboarding link: which issue is valid (a new one revokes the old), for whom, and whether
the customer's admin completed it."""

from __future__ import annotations

from storage.database import Dialect

ID = "0015_onboarding_links"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE onboarding_link (
            tenant_id UUID PRIMARY KEY REFERENCES tenant (id) ON DELETE RESTRICT,
            link_id UUID NOT NULL,
            end_user_email VARCHAR(320) NOT NULL,
            issued_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL,
            issued_by VARCHAR(100) NOT NULL,
            completed_at TIMESTAMPTZ,
            integration_id VARCHAR(200)
        )
        """,
    ]
