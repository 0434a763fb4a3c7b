"""OpenTelemetry tracing for this process: off by default, switched on by the standard ``OTEL_*`` variables.

Off (the default) no SDK tracer provider is installed: the spans ``jobs/trace_context.py`` and
``adapters/outbound_spans.py`` make are OpenTelemetry's no-op objects, no exporter runs and nothing leaves the
process. On when
``OTEL_TRACES_EXPORTER`` names an exporter (``otlp`` or ``console``) or, left unset, when an OTLP endpoint is set
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``); ``OTEL_SDK_DISABLED=true`` keeps it
off. The SDK reads the rest itself: ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_TRACES_SAMPLER``/``_ARG``, ``OTEL_EXPORTER_OTLP_*`` and ``OTEL_BSP_*`` (docs/operations.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from core.errors import ConfigError
from jobs.trace_context import install

EXPORTERS: Final = ("otlp", "console")
_OTLP_MODULE: Final = "opentelemetry.exporter.otlp.proto.http.trace_exporter"


def exporter_name(environ: Mapping[str, str]) -> str | None:
    """The exporter the environment asks for, or None: tracing stays off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not named:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        return "otlp" if endpoint else None
    if named == "none":
        return None
    if named not in EXPORTERS:
        raise ConfigError("OTEL_TRACES_EXPORTER", f"{named!r} is not one of {', '.join(EXPORTERS)}, none")
    return named


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol not in (None, "", "http/protobuf"):
        raise ConfigError("OTEL_EXPORTER_OTLP_PROTOCOL", f"{protocol!r}: assessgate sends OTLP over http/protobuf")
    try:
        module = importlib.import_module(_OTLP_MODULE)
    except ImportError:
        raise ConfigError(
            "OTEL_TRACES_EXPORTER", "otlp needs the exporter package: pip install 'assessgate[otlp]'"
        ) from None
    exporter: SpanExporter = module.OTLPSpanExporter()  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*
    return exporter


def configure_tracing(environ: Mapping[str, str], *, role: str) -> TracerProvider | None:
    """Install a tracer provider for this process when the environment asks for one (``role``: serve or worker).

    Returns it (the SDK flushes and shuts it down at exit), or None when tracing stays off."""
    name = exporter_name(environ)
    if name is None:
        return None
    service = environ.get("OTEL_SERVICE_NAME") or f"assessgate-{role}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))  # sampler: OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(_exporter(name, environ)))
    install(provider)
    return provider
