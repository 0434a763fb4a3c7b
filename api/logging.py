"""structlog set-up: JSON lines on stdout, request/job context from contextvars, redaction last."""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

from core.redaction import Redactor
from core.settings import Settings


def redaction_processor(redactor: Redactor) -> Processor:
    def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        cleaned: EventDict = redactor(event_dict)
        return cleaned

    return redact


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The current span's ``trace_id`` and ``span_id`` (hex, as trace back ends show them), when one is recorded."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def configure_logging(settings: Settings) -> None:
    """Configure structlog for this process (the one global the composition root sets)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redaction_processor(Redactor(settings.secrets())),
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, settings.log_level.upper())),
        # No file given: each log call writes to the sys.stdout of that moment, not the one at configuration
        # (which, under pytest, is one test's capture buffer: later tests' lines would land there or on the terminal).
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    # Route the standard library's loggers (uvicorn, asyncio) through the same level.
    logging.basicConfig(level=getattr(logging, settings.log_level.upper()), stream=sys.stderr, force=True)
    for chatty in ("httpx", "httpcore", "piccolo", "aiosqlite", "asyncio"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
