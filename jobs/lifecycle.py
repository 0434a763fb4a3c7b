"""The outbox's pure engine: job states and their transitions, backoff and lease arithmetic.

A job moves through these states (``jobs/outbox.py`` stores them, the worker drives them)::

    queued ──claim──► running ──complete──► done
      ▲                 │ │ └──park──► parked ──release──► queued
      │                 │ └──fail (permanent, or attempts used up)──► dead ──retry──► queued
      └──fail (retryable)┘      running ──lease expires──► (claimable again, as if queued)

Parking gives the attempt back (waiting is not failing). Operators may ``retry`` a dead or parked job and
``discard`` a queued, parked or dead one (it becomes dead with a reason). Times are integer epoch
milliseconds so they order identically on both engines.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Final

import msgspec

from core.errors import AssessgateError, Conflict

DEFAULT_BASE_DELAY_MS: Final = 1_000
DEFAULT_MAX_DELAY_MS: Final = 3_600_000
DEFAULT_MAX_ATTEMPTS: Final = 12


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"
    PARKED = "parked"


class JobEvent(StrEnum):
    CLAIM = "claim"
    COMPLETE = "complete"
    RETRY_LATER = "retry_later"
    DIE = "die"
    PARK = "park"
    RELEASE = "release"
    LEASE_EXPIRED = "lease_expired"
    OPERATOR_RETRY = "operator_retry"
    OPERATOR_DISCARD = "operator_discard"


TRANSITIONS: Final[dict[tuple[JobState, JobEvent], JobState]] = {
    (JobState.QUEUED, JobEvent.CLAIM): JobState.RUNNING,
    (JobState.RUNNING, JobEvent.CLAIM): JobState.RUNNING,  # re-claim after the lease expired
    (JobState.RUNNING, JobEvent.COMPLETE): JobState.DONE,
    (JobState.RUNNING, JobEvent.RETRY_LATER): JobState.QUEUED,
    (JobState.RUNNING, JobEvent.DIE): JobState.DEAD,
    (JobState.RUNNING, JobEvent.PARK): JobState.PARKED,
    (JobState.RUNNING, JobEvent.LEASE_EXPIRED): JobState.QUEUED,
    (JobState.PARKED, JobEvent.RELEASE): JobState.QUEUED,
    (JobState.PARKED, JobEvent.OPERATOR_RETRY): JobState.QUEUED,
    (JobState.DEAD, JobEvent.OPERATOR_RETRY): JobState.QUEUED,
    (JobState.QUEUED, JobEvent.OPERATOR_DISCARD): JobState.DEAD,
    (JobState.PARKED, JobEvent.OPERATOR_DISCARD): JobState.DEAD,
    (JobState.DEAD, JobEvent.OPERATOR_DISCARD): JobState.DEAD,
}
TERMINAL: Final = frozenset({JobState.DONE})


class InvalidTransition(Conflict):
    def __init__(self, state: JobState, event: JobEvent) -> None:
        super().__init__(f"a {state} job cannot {event.value.replace('_', ' ')}")
        self.state = state
        self.event = event


def next_state(state: JobState, event: JobEvent) -> JobState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state, event) from None


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


def claimable(state: JobState, available_at_ms: int, lease_until_ms: int | None, now_ms: int) -> bool:
    """The claim query's condition, stated once in Python for the model tests."""
    if state == JobState.QUEUED:
        return available_at_ms <= now_ms
    if state == JobState.RUNNING:
        return lease_until_ms is not None and lease_until_ms < now_ms
    return False


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """One outbox row as the engine sees it (``payload`` is the msgspec-encoded JSON of the kind's Struct)."""

    id: str
    tenant_id: str | None
    kind: str
    payload: str
    dedupe_key: str | None
    state: JobState
    attempts: int
    max_attempts: int
    available_at_ms: int
    lease_until_ms: int | None
    lease_owner: str | None
    last_error: str | None
    created_at_ms: int
    updated_at_ms: int


class RetryAt(AssessgateError):
    """Raised by a job handler that knows when to try again (``Retry-After``, ``ratelimit-reset``)."""

    retryable = True

    def __init__(self, message: str, *, at_ms: int) -> None:
        super().__init__(message)
        self.at_ms = at_ms


class ParkJob(AssessgateError):
    """Raised by a job handler whose job must wait for a condition (e.g. the integration becoming ACTIVE)."""
