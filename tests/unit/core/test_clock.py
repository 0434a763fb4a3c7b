"""The clock's stamps: unique and in order within a process, never outside their millisecond."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from core.clock import as_datetime, stamp


@given(st.lists(st.integers(min_value=0, max_value=4_000_000_000_000), min_size=1, max_size=50).map(sorted))
def test_stamps_keep_the_order_they_were_given_in_and_their_millisecond(readings: list[int]) -> None:
    stamps = [stamp(ms) for ms in readings]
    for ms, at in zip(readings, stamps, strict=True):
        assert as_datetime(ms) <= at < as_datetime(ms + 1)
    pairs = list(zip(readings, stamps, strict=True))
    for (a_ms, a), (b_ms, b) in itertools.pairwise(pairs):
        if a_ms == b_ms:
            assert a < b
