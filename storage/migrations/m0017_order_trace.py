"""The trace an order arrived in (a W3C ``traceparent``), so its write-back joins that trace however much later its
result comes (``jobs/trace_context.py``). Empty when tracing is off."""

from __future__ import annotations

from storage.database import Dialect

ID = "0017_order_trace"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return ["ALTER TABLE assessment_order ADD COLUMN trace_parent VARCHAR(55)"]
