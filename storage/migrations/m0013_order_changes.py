"""The order feed (``GET /v1/tenants/{id}/orders/changes``) reads a tenant's orders in (updated_at, id) order."""

from __future__ import annotations

from storage.database import Dialect

ID = "0013_order_changes"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return ["CREATE INDEX assessment_order_changes ON assessment_order (tenant_id, updated_at, id)"]
