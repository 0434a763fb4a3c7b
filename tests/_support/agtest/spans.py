"""Spans recorded in memory: the process's tracer provider, installed once (OpenTelemetry allows one per process),
and switched on only for the tests that ask (``recording``): the others run untraced, as the gateway does by default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jobs.trace_context import install, pause, resume

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def recording() -> Iterator[InMemorySpanExporter]:
    """Every span of this process ends in the exporter while the test runs; tracing is off again afterwards."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        install(provider)
    _EXPORTER.clear()
    resume()
    try:
        yield _EXPORTER
    finally:
        pause()
        _EXPORTER.clear()


def by_id(spans: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans if span.context is not None}


def parent_of(span: ReadableSpan, spans: dict[int, ReadableSpan]) -> ReadableSpan | None:
    return spans.get(span.parent.span_id) if span.parent is not None else None
