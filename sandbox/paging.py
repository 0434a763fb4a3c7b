"""Kombo's list paging as the sandbox emulates it: page sizes, opaque cursors and comparable timestamps."""

from __future__ import annotations

import base64
import binascii
from typing import Final

import msgspec

from sandbox.errors import input_invalid

PAGE_SIZE_DEFAULT: Final = 100
PAGE_SIZE_MAX: Final = 250


def parse_page_size(value: str | None) -> int:
    if value is None:
        return PAGE_SIZE_DEFAULT
    try:
        size = int(value)
    except ValueError:
        raise input_invalid("page_size must be an integer.") from None
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise input_invalid(f"page_size must be between 1 and {PAGE_SIZE_MAX}.")
    return size


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode({"after": seq})).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        value = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(value["after"])
    except (ValueError, KeyError, TypeError, binascii.Error, msgspec.DecodeError):
        raise input_invalid("The cursor is invalid.") from None


def normalise_timestamp(timestamp: str) -> str:
    """Comparable form of Kombo timestamps: date-only means midnight; no zone means UTC."""
    text = timestamp.rstrip("Z")
    if "T" not in text:
        text += "T00:00:00"
    if "." not in text:
        text += ".000"
    whole, fraction = text.split(".")
    return f"{whole}.{(fraction + '000000')[:6]}"
