"""``GET /metrics`` in Prometheus text format: job gauges from the database, counters of this process."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from api.composition import Gateway
from api.problems import problem_responses
from core.metrics import CONTENT_TYPE, WorkerMetrics, process_info, render
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
    families = [
        process_info("serve", gateway.process_name),
        *await gateway.jobs.gauges(),
        *worker_metrics.families(),
        *intake_metrics.families(),
        adapter_runtime.page_failures,
    ]
    return Response(render(families), media_type=CONTENT_TYPE)
