"""The opaque cursors of the API's lists: a position in a list ordered by a timestamp and then an id.

Every list (tenants, a tenant's orders and its changes feed, unrouted orders, jobs) pages with the same codec,
so a cursor is a cursor wherever it came from. A client keeps the changes feed's cursor between polls, across
deploys: the format (URL-safe base64, unpadded, of ``<ISO 8601 timestamp>|<UUID>``) must stay readable.
Anything that is not a cursor this API issued is a :class:`core.errors.PayloadInvalid` (a 400), never a crash.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

import msgspec

from core.errors import PayloadInvalid

_SEPARATOR: Final = "|"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)
Row = TypeVar("Row")


class Position(msgspec.Struct, frozen=True):
    """Where a page ended: the last row's timestamp and id (rows are ordered by both)."""

    at: datetime
    id: uuid.UUID

    @property
    def epoch_ms(self) -> int:
        """``at`` as epoch milliseconds (the outbox orders jobs by such integers)."""
        return (self.at - _EPOCH) // _MILLISECOND


def position_at_ms(epoch_ms: int, row_id: uuid.UUID | str) -> Position:
    """The position of a row stamped in epoch milliseconds (exact: no float in between)."""
    return Position(_EPOCH + timedelta(milliseconds=epoch_ms), uuid.UUID(str(row_id)))


def encode_cursor(position: Position) -> str:
    raw = f"{position.at.isoformat()}{_SEPARATOR}{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; anything else is a 400 (``PayloadInvalid`` at ``$.cursor``)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, separator, row_id = text.partition(_SEPARATOR)
        position = Position(datetime.fromisoformat(at), uuid.UUID(row_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise not_a_cursor() from None
    if not separator or position.at.tzinfo is None:  # every cursor we issue carries its UTC offset
        raise not_a_cursor()
    return position


def not_a_cursor() -> PayloadInvalid:
    return PayloadInvalid("cursor is not one this API issued", path="$.cursor")


def page_of(found: Sequence[Row], limit: int, position: Callable[[Row], Position]) -> tuple[list[Row], str | None]:
    """A page from ``limit + 1`` rows fetched: the first ``limit``, and the cursor after them if more follow."""
    page = list(found[:limit])
    return page, encode_cursor(position(page[-1])) if len(found) > limit else None
