"""The operator console (``/console/orders``) lists every tenant's orders newest first, and counts the last hour's."""

from __future__ import annotations

from storage.database import Dialect

ID = "0016_console_orders"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return ["CREATE INDEX assessment_order_created ON assessment_order (created_at, id)"]
