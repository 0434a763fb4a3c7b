"""Admission limits, pure and clock-injected: token buckets per key, and a count of requests in flight per key.

Both live in one process (one ``serve`` replica); docs/operations.md says why they are not shared between
replicas. Memory is bounded: the least recently used buckets are forgotten beyond ``max_keys`` (a forgotten
bucket is a full one, which only errs on the caller's side for a key nobody used for a while).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one request may pass; ``remaining`` whole tokens after it, ``retry_after_s`` until one is back."""

    allowed: bool
    remaining: int
    retry_after_s: int
    #: Seconds until the bucket is full again (the ``t`` of the RateLimit header).
    reset_s: int


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens at most, ``rate`` tokens back per second."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float], max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self.clock, self.max_keys = rate, burst, clock, max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.burst), at=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets.move_to_end(key)
        return bucket

    def _decision(self, bucket: _Bucket, *, allowed: bool) -> Decision:
        missing = 1.0 - bucket.tokens
        retry = 0 if bucket.tokens >= 1 else max(1, math.ceil(missing / self.rate))
        return Decision(
            allowed=allowed,
            remaining=max(0, int(bucket.tokens)),
            retry_after_s=retry,
            reset_s=math.ceil((self.burst - bucket.tokens) / self.rate),
        )

    def take(self, key: str) -> Decision:
        """Spend one token if there is one."""
        bucket = self._refilled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return self._decision(bucket, allowed=True)
        return self._decision(bucket, allowed=False)

    def peek(self, key: str) -> Decision:
        """Whether a token is there, without spending it (an unknown key is a full bucket)."""
        if key not in self._buckets:
            return Decision(allowed=True, remaining=self.burst, retry_after_s=0, reset_s=0)
        bucket = self._refilled(key)
        return self._decision(bucket, allowed=bucket.tokens >= 1)


class InFlight:
    """Requests being served per key, refused beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self._counts: dict[str, int] = {}

    def enter(self, key: str) -> bool:
        count = self._counts.get(key, 0)
        if count >= self.limit:
            return False
        self._counts[key] = count + 1
        return True

    def leave(self, key: str) -> None:
        count = self._counts.get(key, 0) - 1
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)
