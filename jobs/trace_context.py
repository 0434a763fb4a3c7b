"""Traces of one order's path (OpenTelemetry), and the W3C trace context a job carries to the worker that runs it.

Spans are made through OpenTelemetry's API. Until a process installs an SDK tracer provider (``api/trace_export.py``
does when ``OTEL_*`` variables ask for it) they are no-op objects: nothing is recorded, kept or sent. A job is
enqueued with the ``traceparent`` of the span around its enqueue (in its payload, under ``_traceparent``), so the
worker that claims it, in whatever process, continues that trace; an order keeps the one it arrived in, so its
write-back joins its trace however much later the result comes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Final

import msgspec
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

#: The tracer every layer of the stack uses (the adapters have their own, ``adapters/outbound_spans.py``).
TRACER: Final = trace.get_tracer("assessgate")
_W3C: Final = TraceContextTextMapPropagator()
_KEY: Final = b'{"_traceparent":'
#: What a span is while tracing is off: OpenTelemetry's own no-op span costs tens of microseconds, this nothing.
_OFF: Final = nullcontext(trace.INVALID_SPAN)


class _Switch:
    """Whether this process traces: set once, by :func:`install`; read on every span (the cheapest test there is)."""

    on = False


def install(provider: trace.TracerProvider) -> None:
    """Make ``provider`` this process's tracer provider (``api/trace_export.py``; a test's in-memory recorder)."""
    trace.set_tracer_provider(provider)
    resume()


def pause() -> None:
    """Make no more spans (OpenTelemetry keeps its provider; a test that recorded leaves the next one untraced)."""
    _Switch.on = False


def resume() -> None:
    _Switch.on = True


def span(
    name: str,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    context: Context | None = None,
) -> AbstractContextManager[Span]:
    """A span made current for the ``with`` block (one that records nothing, at no cost, while tracing is off)."""
    if not _Switch.on:
        return _OFF
    return _recorded(name, attributes=attributes, kind=kind, context=context)


@contextmanager
def _recorded(
    name: str, *, attributes: Mapping[str, AttributeValue] | None, kind: SpanKind, context: Context | None
) -> Iterator[Span]:
    # An error's message may carry what the logs redact (a tenant's URL, a candidate's answer): spans do not pass
    # the log redactor, so a span keeps the error's type only.
    with TRACER.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def open_span(name: str, *, attributes: Mapping[str, AttributeValue], kind: SpanKind, context: Context | None) -> Span:
    """A span started but neither current nor ended: for work that ends after the block that began it (a batch's
    job ends at its batch's commit). Make it current with :func:`within`, end it with :func:`close_span`."""
    if not _Switch.on:
        return trace.INVALID_SPAN
    return TRACER.start_span(
        name, context=context, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    )


def within(opened: Span) -> AbstractContextManager[Span]:
    """``opened`` made current for the ``with`` block (nothing while tracing is off)."""
    if opened is trace.INVALID_SPAN:
        return _OFF
    return trace.use_span(opened, record_exception=False, set_status_on_exception=False)


def close_span(opened: Span, error: BaseException | None = None) -> None:
    """End a span of :func:`open_span`, marked failed with ``error``'s type (never its message) if given."""
    if opened is trace.INVALID_SPAN:
        return
    if error is not None:
        opened.set_status(Status(StatusCode.ERROR, type(error).__name__))
    opened.end()


def current_trace_parent() -> str | None:
    """The W3C ``traceparent`` of the current span, or None when nothing is being traced."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def context_of(trace_parent: str | None) -> Context | None:
    """The context to continue a trace in (None: a new trace, or none at all when tracing is off)."""
    return _W3C.extract({"traceparent": trace_parent}) if trace_parent else None


class _Carried(msgspec.Struct):
    trace_parent: str | None = msgspec.field(default=None, name="_traceparent")


def payload_with_trace(payload: bytes, trace_parent: str | None) -> bytes:
    """A job's encoded payload (a JSON object) with the trace context added; unchanged when there is none.

    Payload Structs ignore the key when they decode (msgspec skips unknown fields unless told otherwise)."""
    if trace_parent is None or not payload.startswith(b"{"):
        return payload
    rest = payload[1:]
    return _KEY + msgspec.json.encode(trace_parent) + (rest if rest == b"}" else b"," + rest)


def payload_without_trace(payload: str) -> str:
    """The payload as its job kind encoded it: the trace context taken out again (it is first, by construction),
    so a kind whose payload forbids unknown fields, or is a mapping, decodes what it enqueued."""
    key = _KEY.decode()
    if not payload.startswith(key):
        return payload
    end = payload.find('"', payload.find('"', len(key)) + 1)  # the traceparent's closing quote (no escapes in it)
    if end < 0:
        return payload
    rest = payload[end + 1 :].lstrip()
    return "{" + rest[1:] if rest.startswith(",") else "{" + rest


def trace_parent_of(payload: str) -> str | None:
    """The trace context a job was enqueued in (None for jobs enqueued untraced)."""
    if '"_traceparent"' not in payload:
        return None
    try:
        return msgspec.json.decode(payload, type=_Carried).trace_parent
    except msgspec.DecodeError:
        return None
