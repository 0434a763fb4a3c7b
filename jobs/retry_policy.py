"""When a job fails, what happens next: retried after a backoff, retried at the time it asked for, parked
until its integration works again, or dead (an operator's to retry or discard).

A handler raises; the worker (``jobs/worker.py``) asks :func:`on_failure` what becomes of the job. Jobs that
call Kombo (catalog pushes, result write-backs, late cancellations, reconciliation) turn Kombo's error into
what they raise with :func:`job_failure`, keyed on Kombo's error code as Kombo advises.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Final

import msgspec

from core.errors import AssessgateError, KomboError
from jobs.lifecycle import JobState

DEFAULT_BASE_DELAY_MS: Final = 1_000
DEFAULT_MAX_DELAY_MS: Final = 3_600_000


class RetryAt(AssessgateError):
    """Raised by a job handler that knows when to try again (``Retry-After``, ``ratelimit-reset``)."""

    retryable = True

    def __init__(self, message: str, *, at_ms: int) -> None:
        super().__init__(message)
        self.at_ms = at_ms


class ParkJob(AssessgateError):
    """Raised by a job handler whose job must wait for a condition (e.g. the integration becoming ACTIVE)."""


def backoff_ms(
    attempt: int,
    rng: random.Random,
    *,
    base_ms: int = DEFAULT_BASE_DELAY_MS,
    max_ms: int = DEFAULT_MAX_DELAY_MS,
) -> int:
    """Exponential backoff with full jitter: uniform in ``[0, min(max, base * 2**(attempt-1))]``.

    Full jitter spreads the retries of many jobs that failed together (a Kombo outage) over the
    whole window instead of bunching them at its end.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(max_ms, base_ms * 2 ** min(attempt - 1, 62))
    return rng.randint(0, ceiling)


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """What becomes of a job whose handler failed."""

    state: JobState
    available_at_ms: int


def on_failure(
    *,
    attempts: int,
    max_attempts: int,
    retryable: bool,
    now_ms: int,
    rng: random.Random,
    retry_at_ms: int | None = None,
    base_ms: int = DEFAULT_BASE_DELAY_MS,
    max_ms: int = DEFAULT_MAX_DELAY_MS,
) -> Failure:
    """Dead when the error is permanent or the attempts are used up; else queued for later.

    A retry time the job asks for (``Retry-After``, ``ratelimit-reset``) wins over the backoff when it
    is later, so a rate limit is always waited out.
    """
    if not retryable or attempts >= max_attempts:
        return Failure(state=JobState.DEAD, available_at_ms=now_ms)
    delay = backoff_ms(attempts, rng, base_ms=base_ms, max_ms=max_ms)
    at = now_ms + delay
    if retry_at_ms is not None:
        at = max(at, retry_at_ms)
    return Failure(state=JobState.QUEUED, available_at_ms=at)


#: The integration itself is broken or switched off: nothing will work until its state changes.
PARK_CODES: Final = frozenset(
    {"INTEGRATION.INACTIVE", "INTEGRATION.AUTHENTICATION_INVALID", "PLATFORM.AUTHENTICATION_INVALID"}
)


class Outcome(StrEnum):
    RETRY = "retry"
    PARK = "park"
    DEAD = "dead"


def refused_input(error: KomboError) -> bool:
    """Kombo refused what the caller gave (an unknown integration, token or order), not its own fault."""
    return error.code in {"PLATFORM.INPUT_INVALID", "PLATFORM.INTEGRATION_NOT_FOUND"} or error.http_status in {
        400,
        404,
        422,
    }


def classify(error: KomboError) -> Outcome:
    if error.code in PARK_CODES or (error.code or "").endswith(".AUTHENTICATION_INVALID"):
        return Outcome.PARK
    if error.retryable:
        return Outcome.RETRY
    return Outcome.DEAD


def describe(error: KomboError) -> str:
    """A one-line account for timelines and job errors: code, message, and Kombo's log link."""
    fallback = f"HTTP {error.http_status}" if error.http_status else "no answer"
    parts = [error.code or fallback, error.message]
    if error.log_url:
        parts.append(f"log: {error.log_url}")
    return " — ".join(parts)


def job_failure(error: KomboError, *, now_ms: int) -> AssessgateError:
    """Kombo's error as what a job raises next: park it, retry it at Kombo's time, retry it, or give up."""
    outcome = classify(error)
    if outcome == Outcome.PARK:
        return ParkJob(describe(error))
    if outcome == Outcome.RETRY and error.retry_after_s is not None:
        return RetryAt(describe(error), at_ms=now_ms + int(error.retry_after_s * 1000))
    return AssessgateError(describe(error), retryable=outcome == Outcome.RETRY)
