"""``GET /metrics`` in Prometheus text format: job gauges from the database, counters of this process."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from api.composition import Gateway
from api.problems import problem_responses
from core.clock import wall_clock_ms
from core.metrics import CONTENT_TYPE, WorkerMetrics, process_info, render
from integrations.webhook_events import IntakeMetrics
from jobs.outbox import Outbox
from jobs.outbox_gauges import outbox_gauges
from orders.adapter_runtime import AdapterRuntime
from storage.database import Database


@get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics",
    responses=problem_responses(503),
    media_type=CONTENT_TYPE,
)
async def metrics(
    db: NamedDependency[Database],
    gateway: NamedDependency[Gateway],
    worker_metrics: NamedDependency[WorkerMetrics],
    intake_metrics: NamedDependency[IntakeMetrics],
    adapter_runtime: NamedDependency[AdapterRuntime],
) -> Response[str]:
    families = [
        process_info("serve", gateway.process_name),
        *await outbox_gauges(Outbox(db), now_ms=wall_clock_ms()),
        *worker_metrics.families(),
        *intake_metrics.families(),
        adapter_runtime.page_failures,
    ]
    return Response(render(families), media_type=CONTENT_TYPE)
