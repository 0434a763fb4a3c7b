"""Tracing's pure parts: when the environment switches it on, the trace context a job's payload carries, and the
trace and span ids in log lines."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.outbound_spans import client_span, host_of
from agtest.spans import recording
from api.logging import add_trace_ids
from api.trace_export import exporter_name
from core.errors import ConfigError
from jobs.trace_context import (
    TRACER,
    current_trace_parent,
    payload_with_trace,
    payload_without_trace,
    span,
    trace_parent_of,
)

__all__ = ["recording"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, None),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, None),
    ],
)
def test_tracing_is_off_unless_the_environment_asks(environ: dict[str, str], expected: str | None) -> None:
    assert exporter_name(environ) == expected


def test_an_unknown_exporter_stops_the_process_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        exporter_name({"OTEL_TRACES_EXPORTER": "zipkin"})


class Payload(msgspec.Struct):
    order_id: str
    attempt: int = 0


PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@given(st.text(max_size=40), st.integers())
def test_a_payload_carries_the_trace_and_still_decodes_as_its_kind(order_id: str, attempt: int) -> None:
    raw = msgspec.json.encode(Payload(order_id=order_id, attempt=attempt))
    carried = payload_with_trace(raw, PARENT).decode()
    assert trace_parent_of(carried) == PARENT
    assert msgspec.json.decode(carried, type=Payload) == Payload(order_id=order_id, attempt=attempt)
    assert payload_with_trace(raw, None) == raw  # untraced: the payload is exactly as before


def test_an_empty_payload_carries_the_trace_too() -> None:
    carried = payload_with_trace(b"{}", PARENT)
    assert msgspec.json.decode(carried) == {"_traceparent": PARENT}


def test_outside_a_span_there_is_no_trace_context_and_no_ids_in_logs(recording: InMemorySpanExporter) -> None:
    del recording
    assert current_trace_parent() is None
    assert add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}


def test_untraced_a_span_is_nothing_and_records_nothing() -> None:
    with span("work") as current:
        assert not current.is_recording()
        assert current_trace_parent() is None


def test_log_lines_name_the_current_trace_and_span(recording: InMemorySpanExporter) -> None:
    exporter = recording
    with TRACER.start_as_current_span("work") as work:
        line = add_trace_ids(None, "info", {"event": "x"})
        parent = current_trace_parent()
    context = work.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert parent is not None
    assert parent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
    assert [s.name for s in exporter.get_finished_spans()] == ["work"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    order_id: str


@given(st.dictionaries(st.text(max_size=10), st.integers(), max_size=5))
def test_the_worker_hands_a_kind_exactly_the_payload_it_enqueued(mapping: dict[str, int]) -> None:
    raw = msgspec.json.encode(mapping)
    assert msgspec.json.decode(payload_without_trace(payload_with_trace(raw, PARENT).decode())) == mapping
    strict = payload_with_trace(msgspec.json.encode(Strict(order_id="o")), PARENT).decode()
    assert msgspec.json.decode(payload_without_trace(strict), type=Strict) == Strict(order_id="o")
    assert payload_without_trace(raw.decode()) == raw.decode()  # untraced: as it was


def test_a_failing_span_keeps_the_error_type_not_its_message(recording: InMemorySpanExporter) -> None:
    secret_url = "https://user:hunter2@platform.example/hook?token=abc"
    outer = TRACER.start_as_current_span("job")
    with pytest.raises(ConfigError), outer, client_span("POST", method="POST", url=secret_url), span("inner"):
        raise ConfigError("X", f"{secret_url} did not answer")
    spans = recording.get_finished_spans()
    assert [s.name for s in spans] == ["inner", "POST", "job"]
    for finished in spans[:2]:
        assert finished.status.description == "ConfigError"
        assert not finished.events  # no exception event with the message
    assert spans[1].attributes is not None
    assert spans[1].attributes["server.address"] == "platform.example"
    assert host_of("http://a:b@127.0.0.1:8080/x") == "127.0.0.1:8080"
