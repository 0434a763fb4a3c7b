"""The one cursor codec of the API's lists: what it encodes it decodes, and anything else is a 400, never a crash."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cursors import Position, decode_cursor, encode_cursor, page_of, position_at_ms
from core.errors import PayloadInvalid

AWARE = st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
)
POSITIONS = st.builds(Position, AWARE, st.uuids())


def decodes_or_refuses(cursor: str) -> Position | None:
    """The position, or None when the codec refused the cursor as a clear 400 (any other error fails the test)."""
    try:
        return decode_cursor(cursor)
    except PayloadInvalid as refused:
        assert refused.path == "$.cursor"
        assert refused.message == "cursor is not one this API issued"
        return None


@given(POSITIONS)
def test_a_cursor_decodes_to_the_position_it_was_made_from(position: Position) -> None:
    cursor = encode_cursor(position)
    assert decode_cursor(cursor) == position
    assert "=" not in cursor
    assert base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))  # URL-safe: nothing to escape in a query


@given(st.integers(min_value=0, max_value=2**45), st.uuids())
def test_epoch_milliseconds_survive_the_round_trip_exactly(epoch_ms: int, row_id: uuid.UUID) -> None:
    position = decode_cursor(encode_cursor(position_at_ms(epoch_ms, str(row_id))))
    assert (position.epoch_ms, position.id) == (epoch_ms, row_id)


@given(st.text(max_size=300))
def test_any_text_is_a_position_or_a_clear_refusal(cursor: str) -> None:
    decodes_or_refuses(cursor)


@given(st.binary(max_size=200))
def test_any_bytes_behind_valid_base64_are_a_position_or_a_clear_refusal(raw: bytes) -> None:
    decodes_or_refuses(base64.urlsafe_b64encode(raw).decode().rstrip("="))


@given(st.datetimes(), st.uuids(), st.sampled_from(["|", ":", ""]))
def test_a_cursor_we_did_not_issue_is_refused(at: datetime, row_id: uuid.UUID, separator: str) -> None:
    # A naive timestamp (every cursor issued carries its offset) or another separator (the jobs' old ``ms:id``).
    forged = base64.urlsafe_b64encode(f"{at.isoformat()}{separator}{row_id}".encode()).decode()
    assert decodes_or_refuses(forged) is None


def test_a_cursor_in_the_format_clients_keep_still_decodes() -> None:
    # The changes feed's cursor is kept by clients across deploys: this is the format issued before the codec moved.
    kept = base64.urlsafe_b64encode(b"2026-01-02T03:04:05.678901+00:00|00000000-0000-4000-8000-000000000001")
    position = decode_cursor(kept.decode().rstrip("="))
    assert position == Position(
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), uuid.UUID("00000000-0000-4000-8000-000000000001")
    )


@pytest.mark.parametrize(("fetched", "expect_cursor"), [(3, False), (4, True)])
def test_a_page_has_a_cursor_only_when_more_rows_follow(fetched: int, expect_cursor: bool) -> None:
    rows = [position_at_ms(n, uuid.UUID(int=n)) for n in range(fetched)]
    page, cursor = page_of(rows, 3, lambda row: row)
    assert page == rows[:3]
    assert (cursor is not None) == expect_cursor
    if cursor is not None:
        assert decode_cursor(cursor) == rows[2]
