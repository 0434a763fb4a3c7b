"""Per-tenant adapter routing: a tenant may send a package type (or its inline orders) to another adapter."""

from __future__ import annotations

from storage.database import Dialect

ID = "0008_tenant_routes"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE tenant_route (
            tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
            route_key VARCHAR(40) NOT NULL,
            adapter VARCHAR(100) NOT NULL,
            PRIMARY KEY (tenant_id, route_key)
        )
        """
    ]
