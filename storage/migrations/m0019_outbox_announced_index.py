"""The index an enqueue on PostgreSQL asks before it notifies (jobs/outbox.py ``_ANNOUNCED_WAITS``): the queued
jobs of a kind and tenant that were due when enqueued and never ran. Partial, so it holds only the jobs waiting
for their first claim; SQLite notifies in-process and never asks.
"""

from __future__ import annotations

from storage.database import Dialect

ID = "0019_outbox_announced_index"


def statements(dialect: Dialect) -> list[str]:
    if dialect == "sqlite":
        return []
    return [
        "CREATE INDEX outbox_job_announced ON outbox_job (kind, tenant_id)"
        " WHERE state = 'queued' AND attempts = 0 AND available_at_ms = created_at_ms"
    ]
