"""The index a claim walks (jobs/claim_sql.py): queued jobs by tenant and kind, oldest first within each.

A claim finds each (tenant, kind) with due work by a skip scan over it and reads each one's oldest jobs as a
range, so its cost follows the number of such pairs rather than the number of jobs due.
"""

from __future__ import annotations

from storage.database import Dialect

ID = "0018_outbox_due_index"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return ["CREATE INDEX outbox_job_due ON outbox_job (state, tenant_id, kind, available_at_ms)"]
