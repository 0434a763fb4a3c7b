"""The one clock: integer epoch milliseconds, so times order identically on both engines.

The composition root (``api/composition.py``) passes ``wall_clock_ms`` (or a test's clock) to everything that
needs the time; nothing else reads the system clock for the domain's decisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def as_datetime(epoch_ms: int) -> datetime:
    """A clock reading as the aware UTC datetime the tables store."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)
