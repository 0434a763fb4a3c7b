"""The outbox's state as Prometheus gauges, read from the database at scrape time.

Every process that serves ``/metrics`` (``serve`` replicas and ``assessgate worker``) reports the same
database-wide values; alerting rules aggregate them with ``max`` so replicas do not multiply them.
"""

from __future__ import annotations

from core.metrics import Gauge
from jobs.outbox import Outbox


async def outbox_gauges(outbox: Outbox, *, now_ms: int) -> list[Gauge]:
    counts, oldest_ms = await outbox.stats(now_ms=now_ms)
    parked = await outbox.parked_by_tenant()
    return [
        Gauge(
            "assessgate_jobs",
            "Jobs in the outbox by state and kind (all processes).",
            (({"state": str(r["state"]), "kind": str(r["kind"])}, float(r["n"])) for r in counts),
        ),
        Gauge(
            "assessgate_job_attempts",
            "Attempts made so far by the jobs in the outbox, by state and kind.",
            (({"state": str(r["state"]), "kind": str(r["kind"])}, float(r["attempts"] or 0)) for r in counts),
        ),
        Gauge(
            "assessgate_oldest_due_job_age_seconds",
            "How long the oldest due queued job has waited (0 when none waits); alert when it grows.",
            [({}, (oldest_ms or 0) / 1000)],
        ),
        Gauge(
            "assessgate_parked_jobs",
            "Parked jobs by tenant (only tenants with some): their Kombo integration does not work.",
            (({"tenant_id": str(r["tenant_id"] or "")}, float(r["n"])) for r in parked),
        ),
    ]
