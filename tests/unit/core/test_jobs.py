"""The outbox engine's pure parts: a Hypothesis state machine of the lifecycle, and backoff arithmetic."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from jobs.lifecycle import TRANSITIONS, InvalidTransition, JobEvent, JobState, claimable, next_state
from jobs.retry_policy import backoff_ms, on_failure


class JobLifecycle(RuleBasedStateMachine):
    """Drive one job through random events with a clock; the model's rules must agree with jobs.lifecycle."""

    def __init__(self) -> None:
        super().__init__()
        self.state = JobState.QUEUED
        self.now = 0
        self.available_at = 0
        self.lease_until: int | None = None
        self.attempts = 0
        self.max_attempts = 4
        self.done_count = 0

    @rule(ms=st.integers(0, 10_000))
    def time_passes(self, ms: int) -> None:
        self.now += ms

    @rule(lease=st.integers(1, 1_000))
    def claim(self, lease: int) -> None:
        if not claimable(self.state, self.available_at, self.lease_until, self.now):
            return
        self.state = next_state(self.state, JobEvent.CLAIM)
        self.attempts += 1
        self.lease_until = self.now + lease

    @precondition(lambda self: self.state == JobState.RUNNING)
    @rule()
    def complete(self) -> None:
        self.state = next_state(self.state, JobEvent.COMPLETE)
        self.done_count += 1
        self.lease_until = None

    @precondition(lambda self: self.state == JobState.RUNNING)
    @rule(retryable=st.booleans(), seed=st.integers(0, 2**32), retry_in=st.none() | st.integers(0, 50_000))
    def fail(self, retryable: bool, seed: int, retry_in: int | None) -> None:
        retry_at = None if retry_in is None else self.now + retry_in
        failure = on_failure(
            attempts=self.attempts,
            max_attempts=self.max_attempts,
            retryable=retryable,
            now_ms=self.now,
            rng=random.Random(seed),
            retry_at_ms=retry_at,
        )
        event = JobEvent.DIE if failure.state == JobState.DEAD else JobEvent.RETRY_LATER
        assert next_state(self.state, event) == failure.state
        if failure.state == JobState.DEAD:
            assert not retryable or self.attempts >= self.max_attempts
        else:
            assert failure.available_at_ms >= self.now
            if retry_at is not None:
                assert failure.available_at_ms >= retry_at
        self.state = failure.state
        self.available_at = failure.available_at_ms
        self.lease_until = None

    @precondition(lambda self: self.state == JobState.RUNNING)
    @rule()
    def park(self) -> None:
        self.state = next_state(self.state, JobEvent.PARK)
        self.lease_until = None
        self.attempts -= 1  # waiting is not failing: the outbox gives the attempt back

    @precondition(lambda self: self.state == JobState.PARKED)
    @rule()
    def release(self) -> None:
        self.state = next_state(self.state, JobEvent.RELEASE)
        self.available_at = self.now

    @precondition(lambda self: self.state in {JobState.DEAD, JobState.PARKED})
    @rule()
    def operator_retry(self) -> None:
        self.state = next_state(self.state, JobEvent.OPERATOR_RETRY)
        self.available_at = self.now
        self.attempts = 0

    @rule(event=st.sampled_from(list(JobEvent)))
    def illegal_events_are_refused(self, event: JobEvent) -> None:
        if (self.state, event) not in TRANSITIONS:
            with pytest.raises(InvalidTransition):
                next_state(self.state, event)

    @invariant()
    def done_is_terminal_and_happens_once(self) -> None:
        assert self.done_count <= 1
        assert all(src != JobState.DONE for src, _ in TRANSITIONS)

    @invariant()
    def only_running_jobs_hold_a_lease(self) -> None:
        if self.state != JobState.RUNNING:
            assert self.lease_until is None

    @invariant()
    def attempts_never_exceed_the_limit_while_retrying(self) -> None:
        if self.state == JobState.QUEUED:
            assert self.attempts <= self.max_attempts


TestJobLifecycle = JobLifecycle.TestCase


@given(attempt=st.integers(1, 200), seed=st.integers(0, 2**32), base=st.integers(1, 10_000), cap=st.integers(1, 10**8))
def test_backoff_stays_within_the_full_jitter_window(attempt: int, seed: int, base: int, cap: int) -> None:
    delay = backoff_ms(attempt, random.Random(seed), base_ms=base, max_ms=cap)
    assert 0 <= delay <= min(cap, base * 2 ** min(attempt - 1, 62))


def test_backoff_window_doubles_until_the_cap() -> None:
    class Max(random.Random):
        def randint(self, a: int, b: int) -> int:
            return b

    delays = [backoff_ms(n, Max(), base_ms=1_000, max_ms=60_000) for n in range(1, 10)]
    assert delays == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]


def test_backoff_spreads_retries() -> None:
    rng = random.Random(7)
    delays = {backoff_ms(6, rng) for _ in range(200)}
    assert len(delays) > 150  # jitter, not a single instant every client hits together


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        backoff_ms(0, random.Random())


@given(attempts=st.integers(1, 30), max_attempts=st.integers(1, 30), retryable=st.booleans())
def test_failure_goes_dead_exactly_when_permanent_or_exhausted(
    attempts: int, max_attempts: int, retryable: bool
) -> None:
    failure = on_failure(
        attempts=attempts, max_attempts=max_attempts, retryable=retryable, now_ms=0, rng=random.Random(1)
    )
    assert (failure.state == JobState.DEAD) == (not retryable or attempts >= max_attempts)
