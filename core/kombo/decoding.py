"""Turn bytes or Python objects into contract types, raising only our own errors.

msgspec's own exceptions never escape: every failure becomes :class:`core.errors.PayloadInvalid`
carrying msgspec's JSON path, so callers handle exactly one error type.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from core.errors import FieldError, PayloadInvalid

T = TypeVar("T")


def payload_error(exc: msgspec.MsgspecError, what: str) -> PayloadInvalid:
    """Convert a msgspec error into ours, splitting msgspec's message from its JSON path."""
    error = FieldError.of(exc)
    return PayloadInvalid(f"{what}: {error.message} (at {error.path})", path=error.path)


def decode_json(raw: bytes | str, type_: type[T], *, what: str = "document") -> T:
    try:
        return msgspec.json.decode(raw, type=type_, strict=True)
    except msgspec.MsgspecError as exc:
        raise payload_error(exc, what) from None
    except (RecursionError, UnicodeDecodeError, OverflowError) as exc:
        raise PayloadInvalid(f"{what}: {type(exc).__name__}") from None


def convert(obj: Any, type_: type[T], *, what: str = "document") -> T:
    try:
        return msgspec.convert(obj, type=type_, strict=True)
    except msgspec.MsgspecError as exc:
        raise payload_error(exc, what) from None
    except (RecursionError, OverflowError) as exc:
        raise PayloadInvalid(f"{what}: {type(exc).__name__}") from None
