"""The vendor's own package list, which tenants select from (and override names and descriptions of)."""

from __future__ import annotations

from storage.database import Dialect

ID = "0005_vendor_catalog"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE vendor_catalog (
            id INTEGER PRIMARY KEY,
            packages TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )
        """
    ]
