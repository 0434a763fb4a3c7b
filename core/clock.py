"""The one clock: integer epoch milliseconds, so times order identically on both engines.

The composition root (``api/composition.py``) passes ``wall_clock_ms`` (or a test's clock) to everything that
needs the time; nothing else reads the system clock for the domain's decisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def as_datetime(epoch_ms: int) -> datetime:
    """A clock reading as the aware UTC datetime the tables store."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


_last_stamp: list[int] = [0, 0]  # [epoch ms, stamps given in it]: this process's tie-breaker


def stamp(epoch_ms: int) -> datetime:
    """:func:`as_datetime`, unique within this process: rows written one after another in the same millisecond
    get 1 µs, 2 µs, ... more, so a list sorted by time (an order's timeline, the audit log) keeps the order they
    were written in. Never moves a time out of its millisecond, so a clock's reading stays what it was."""
    if _last_stamp[0] == epoch_ms and _last_stamp[1] < 999:  # noqa: PLR2004 - the microseconds of one millisecond
        _last_stamp[1] += 1
    elif _last_stamp[0] != epoch_ms:
        _last_stamp[0], _last_stamp[1] = epoch_ms, 0
    return as_datetime(epoch_ms) + timedelta(microseconds=_last_stamp[1])
