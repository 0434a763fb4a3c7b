"""One order's trace, end to end over real HTTP: the webhook, the intake and the adapter's decision, the start job
and the adapter's outbound call (across the outbox, as another process would take it), then the result the vendor's
platform posts later and its write-back to Kombo, all in the order's one trace (an in-memory exporter records it)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agtest.platform import PLATFORM_SECRET, Platform, platform
from agtest.spans import by_id, parent_of, recording
from agtest.stack import ADMIN, Clock, Stack, ports, run_jobs, running, stack_settings
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["platform", "ports", "recording"]

RESULT = {"status": "COMPLETED", "result_url": "https://vendor.example/r/1", "completed_at": "2026-07-23T15:42:10.000Z"}


@pytest.fixture
async def forward_stack(
    db: Database, test_settings: Settings, ports: tuple[int, int], tmp_path: Path, platform: Platform
) -> AsyncIterator[Stack]:
    """Orders routed to the ``forward`` adapter, which posts each to the platform (its outbound call)."""
    del db
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(f'[routes]\ndefault = "forward"\n\n[adapters.forward]\nurl = "{platform.url}"\n')
    settings = stack_settings(test_settings, *ports, plugins_file=str(plugins), outbound_allow=("127.0.0.1/32",))
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)


def finished(exporter: InMemorySpanExporter, span_id: int) -> ReadableSpan:
    """The span once it has ended (the gateway's thread ends a request's span just after the answer leaves, so it
    may lag the sandbox's call by a moment)."""
    deadline = time.monotonic() + 10
    while True:
        found = [s for s in exporter.get_finished_spans() if s.context is not None and s.context.span_id == span_id]
        if found or time.monotonic() > deadline:
            [span] = found
            return span
        time.sleep(0.01)


async def test_one_order_is_one_trace_from_webhook_to_write_back(
    db: Database, forward_stack: Stack, platform: Platform, recording: InMemorySpanExporter
) -> None:
    stack, clock = forward_stack, Clock()
    tenant, integration = await stack.tenant_with_integration()
    secret = f"{stack.gateway}/v1/tenants/{tenant}/secrets/forward_signing_secret"
    assert (await stack.http.put(secret, json={"value": PLATFORM_SECRET}, headers=ADMIN)).status_code == 204
    exporter = recording
    await stack.place(integration)
    clock.catch_up()
    await run_jobs(db, stack.settings, clock)  # order.start: the adapter posts the order to the platform
    platform.wait_for(1)
    [order] = await stack.gateway_orders(tenant)
    url = f"{stack.gateway}/v1/tenants/{tenant}/orders/{order['id']}/result"
    assert (await stack.http.put(url, json=RESULT, headers=ADMIN)).status_code in (200, 202)
    clock.catch_up()
    await run_jobs(db, stack.settings, clock)  # result.write_back: the PUT to Kombo

    [intake] = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "order.intake" and (s.attributes or {}).get("kombo.order_id") == order["kombo_order_id"]
    ]
    assert intake.parent is not None
    webhook = finished(exporter, intake.parent.span_id)
    assert (webhook.name, (webhook.attributes or {})["url.path"]) == ("HTTP POST", "/kombo/webhooks")
    assert webhook.parent is None  # the trace begins with Kombo's webhook
    trace_id = intake.parent.trace_id
    spans = by_id(tuple(s for s in exporter.get_finished_spans() if s.context and s.context.trace_id == trace_id))

    def child(name: str, parent: ReadableSpan) -> ReadableSpan:
        [found] = [s for s in spans.values() if s.name == name and parent_of(s, spans) is parent]
        return found

    assert child("order.intake", webhook) is intake
    decide = child("adapter.decide", intake)
    assert (decide.attributes or {})["adapter"] == "forward"
    start_job = child("job order.start", intake)  # across the outbox: the job carried the trace context
    adapter_start = child("adapter.start", start_job)
    assert (child("POST", adapter_start).attributes or {})["http.response.status_code"] == 200
    write_back = child("job result.write_back", intake)  # the order's trace, though the result came much later
    assert (write_back.attributes or {})["job.outcome"] == "done"
    kombo_put = child("kombo PUT", write_back)
    assert str((kombo_put.attributes or {})["url.path"]).endswith(f"/orders/{order['kombo_order_id']}/result")
    # The result's own request is a trace of its own (the platform's call), not mixed into the order's.
    assert [s.name for s in spans.values() if s.name.startswith("HTTP ")] == ["HTTP POST"]
