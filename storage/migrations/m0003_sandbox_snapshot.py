"""Sandbox mode: the mounted Kombo sandbox keeps its state in the gateway's database (one JSON snapshot)."""

from __future__ import annotations

from storage.database import Dialect

ID = "0003_sandbox_snapshot"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE sandbox_snapshot (
            id INTEGER PRIMARY KEY,
            snapshot TEXT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )
        """
    ]
