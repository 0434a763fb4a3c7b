"""Spans of the calls that leave the gateway (Kombo's API, the adapters' outbound HTTP), through OpenTelemetry's API.

A call makes a span only inside a recorded one (the job or request that made it), so none while tracing is off.
A span names the method and the host only, with Kombo's path (no query: it carries cursors); a tenant-supplied
URL's path and query may carry tokens, so they are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER: Final = trace.get_tracer("assessgate.adapters")
_W3C: Final = TraceContextTextMapPropagator()


@contextmanager
def client_span(name: str, *, method: str, host: str, path: str | None = None) -> Iterator[Span]:
    attributes = {"http.request.method": method, "server.address": host}
    if path is not None:
        attributes["url.path"] = path
    if not trace.get_current_span().is_recording():  # only inside a traced operation (none while tracing is off)
        yield trace.INVALID_SPAN
        return
    with TRACER.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
        yield span


def with_trace_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the current span's ``traceparent`` (so a vendor's platform can continue the trace)."""
    _W3C.inject(headers)
    return headers
