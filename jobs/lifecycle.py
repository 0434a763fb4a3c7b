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

from enum import StrEnum
from typing import Final

import msgspec

from core.errors import Conflict

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
