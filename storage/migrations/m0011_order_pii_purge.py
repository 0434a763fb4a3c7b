"""When a finished order's candidate details were erased after the retention period (NULL: not yet)."""

from __future__ import annotations

from storage.database import Dialect

ID = "0011_order_pii_purge"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        "ALTER TABLE assessment_order ADD COLUMN pii_purged_at TIMESTAMPTZ",
        "CREATE INDEX assessment_order_finished ON assessment_order (state, updated_at)",
    ]
