"""The console's first page: the numbers of ``/metrics`` an operator watches, each a link to the list behind it.

Job counts and the oldest due job's age come from the database (every process reports the same); orders of the
last hour too; webhook failures are this process's counters since it started, as ``/metrics`` reports them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency

from api.composition import Gateway
from api.console.pages import PREFIX, page, query
from core.order_status import OrderStatus
from integrations.webhook_events import IntakeMetrics
from orders.write_back import WRITE_BACK_KIND

WEBHOOK_FAILURES: Final = ("bad_signature", "malformed")


class Figure(msgspec.Struct, frozen=True):
    label: str
    value: str
    href: str


def webhook_failures(metrics: IntakeMetrics) -> dict[str, int]:
    """Webhooks refused for their signature or as malformed, since this process started."""
    counts = dict.fromkeys(WEBHOOK_FAILURES, 0)
    for labels, value in metrics.webhooks.values.items():
        outcome = dict(labels).get("outcome", "")
        if outcome in counts:
            counts[outcome] += int(value)
    return counts


async def figures(gateway: Gateway, metrics: IntakeMetrics) -> list[Figure]:
    counts, oldest_ms = await gateway.jobs.stats()
    by_state: dict[str, int] = {}
    backlog = 0
    for row in counts:
        by_state[str(row["state"])] = by_state.get(str(row["state"]), 0) + int(row["n"])
        if row["kind"] == WRITE_BACK_KIND and row["state"] in ("queued", "running"):
            backlog += int(row["n"])
    arrived = await gateway.orders.arrived_within(timedelta(hours=1))
    failures = webhook_failures(metrics)
    attention = await gateway.orders.count_with_status(OrderStatus.NEEDS_ATTENTION)
    jobs, orders = f"{PREFIX}/jobs", f"{PREFIX}/orders"
    return [
        Figure("Orders in the last hour", str(sum(arrived.values())), orders),
        Figure("Rejected in the last hour", str(arrived.get(OrderStatus.REJECTED, 0)), f"{orders}?status=rejected"),
        Figure("Orders needing attention", str(attention), f"{orders}?status=needs_attention"),
        Figure("Write-back backlog", str(backlog), f"{jobs}?{query(state='queued', kind=WRITE_BACK_KIND)}"),
        Figure("Oldest due job waits", f"{(oldest_ms or 0) / 1000:.0f} s", f"{jobs}?state=queued"),
        Figure("Dead jobs", str(by_state.get("dead", 0)), f"{jobs}?state=dead"),
        Figure("Parked jobs", str(by_state.get("parked", 0)), f"{jobs}?state=parked"),
        Figure("Webhooks with a bad signature", str(failures["bad_signature"]), f"{PREFIX}/webhooks"),
        Figure("Malformed webhooks", str(failures["malformed"]), f"{PREFIX}/webhooks"),
    ]


@get("/", include_in_schema=False)
async def overview(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], intake_metrics: NamedDependency[IntakeMetrics]
) -> Response[str]:
    return page(request, "overview.html", title="Overview", figures=await figures(gateway, intake_metrics))
