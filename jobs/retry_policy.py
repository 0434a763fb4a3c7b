"""What to do when Kombo says no: retry, park until the integration works again, or give up.

One policy for every job that calls Kombo (catalog pushes now, result write-backs later), keyed on
Kombo's error code as Kombo advises.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from core.errors import AssessgateError, KomboError
from jobs.lifecycle import ParkJob, RetryAt

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
