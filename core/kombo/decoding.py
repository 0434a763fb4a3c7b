"""Turn bytes or Python objects into contract types, raising only our own errors.

msgspec's own exceptions never escape: every failure becomes :class:`core.errors.PayloadInvalid`
carrying msgspec's JSON path, so callers handle exactly one error type.
"""

from __future__ import annotations

import re
from typing import Any, Final, TypeVar

import msgspec

from core.errors import PayloadInvalid

T = TypeVar("T")

_PATH_RE: Final = re.compile(r" - at `(?P<path>[^`]*)`$")


def payload_error(exc: msgspec.MsgspecError, what: str) -> PayloadInvalid:
    """Convert a msgspec error into ours, splitting msgspec's message from its JSON path."""
    text = str(exc)
    match = _PATH_RE.search(text)
    path = match.group("path") if match else "$"
    reason = _PATH_RE.sub("", text)
    return PayloadInvalid(f"{what}: {reason} (at {path})", path=path)


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
