"""Spans of the calls that leave the gateway (Kombo's API, the adapters' outbound HTTP), through OpenTelemetry's API.

A call makes a span only inside a recorded one (the job or request that made it), so none while tracing is off.
A span names the method and the host only, with Kombo's path (no query: it carries cursors); a tenant-supplied
URL's path and query may carry tokens, so they are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER: Final = trace.get_tracer("assessgate.adapters")
_W3C: Final = TraceContextTextMapPropagator()


def host_of(url: str) -> str:
    """The host and port of ``url``, never its userinfo (``user:password@``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


@contextmanager
def client_span(name: str, *, method: str, url: str, path: str | None = None) -> Iterator[Span]:
    attributes = {"http.request.method": method, "server.address": host_of(url)}
    if path is not None:
        attributes["url.path"] = path
    if not trace.get_current_span().is_recording():  # only inside a traced operation (none while tracing is off)
        yield trace.INVALID_SPAN
        return
    # An error's message may name the tenant's URL with its tokens: the span keeps the error's type only.
    with TRACER.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def with_trace_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the current span's ``traceparent`` (so a vendor's platform can continue the trace)."""
    _W3C.inject(headers)
    return headers
