"""``GET /metrics`` in Prometheus text format: job gauges from the database, counters of this process."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from api.composition import Gateway
from api.problems import problem_responses
from core.metrics import CONTENT_TYPE, Gauge, WorkerMetrics, render
from integrations.webhook_events import IntakeMetrics
from orders.adapter_runtime import AdapterRuntime


@get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics",
    responses=problem_responses(503),
    media_type=CONTENT_TYPE,
)
async def metrics(
    gateway: NamedDependency[Gateway],
    worker_metrics: NamedDependency[WorkerMetrics],
    intake_metrics: NamedDependency[IntakeMetrics],
    adapter_runtime: NamedDependency[AdapterRuntime],
) -> Response[str]:
    counts, oldest_ms = await gateway.jobs.stats()
    families = [
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
        *worker_metrics.families(),
        *intake_metrics.families(),
        adapter_runtime.page_failures,
    ]
    return Response(render(families), media_type=CONTENT_TYPE)
