"""The HTTP client of the load generators and the fault drills: it behaves as a vendor's platform or Kombo would.

A real caller of the gateway does not crash on ``503 Database unavailable`` or ``429``: it waits as long as
``Retry-After`` says and asks again; it retries a refused or dropped connection with backoff; and it gives up
after a bounded time. This client does that, and counts every such answer in ``tally`` so a drill or a
benchmark reports them (``503 Retry-After: 4``) instead of reading a problem document as a page.

A request is retried after a transport error only when that cannot do a thing twice: an idempotent method
(GET, PUT, DELETE, HEAD, OPTIONS), a caller's ``idempotent=True`` (a webhook carries its event id), or an error
raised before the request was sent (``ConnectError``, ``ConnectTimeout``, ``PoolTimeout``). Otherwise the error
is counted and raised: the caller decides, as a real platform would, whether the request took effect.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

#: Answers that say "not now, ask again" (RFC 9110 §15.6.4, RFC 6585 §4).
RETRYABLE_STATUSES: Final = frozenset({429, 503})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Raised before any byte of the request reached the server: always safe to send again.
NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class PatientClient:
    """Wraps an ``httpx.AsyncClient``; ``request`` returns the first answer that is not 429/503, or the last one
    when ``give_up_after_s`` has passed (also counted, as ``gave up``)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        tally: Counter[str] | None = None,
        give_up_after_s: float = 120.0,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        max_retry_after_s: float = 30.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.tally: Counter[str] = tally if tally is not None else Counter()
        self.give_up_after_s = give_up_after_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        # A server asking for an hour is not honoured in a drill of minutes: capped.
        self.max_retry_after_s = max_retry_after_s
        self.rng = rng or random.Random()  # jitter, not security
        self.sleep = sleep

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (what the gateway's own write-back does)."""
        return self.rng.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))

    async def request(self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any) -> httpx.Response:
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        deadline = time.monotonic() + self.give_up_after_s
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self.tally[f"transport error ({type(exc).__name__})"] += 1
                if not (safe or isinstance(exc, NOT_SENT)) or time.monotonic() >= deadline:
                    self.tally["gave up"] += 1
                    raise
                wait = self.backoff(attempt)
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                asked = retry_after_s(response)
                shown = "no Retry-After" if asked is None else f"Retry-After: {asked:g}"
                self.tally[f"{response.status_code} {shown}"] += 1
                if time.monotonic() >= deadline:
                    self.tally["gave up"] += 1
                    return response
                wait = self.backoff(attempt) if asked is None else min(asked, self.max_retry_after_s)
            attempt += 1
            await self.sleep(min(wait, max(0.0, deadline - time.monotonic())))

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)


def figures(tally: Counter[str]) -> str:
    """One line for a drill's or benchmark's output: what the client had to cope with."""
    return ", ".join(f"{name}: {n}" for name, n in sorted(tally.items())) or "none"
