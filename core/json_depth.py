"""How deeply a JSON document nests, found without decoding it (decoders recurse and fail deep down).

Strings are removed first (a bracket inside one does not nest), then the brackets are counted. A body with
fewer opening brackets than the limit cannot exceed it, so ordinary bodies cost two ``bytes.count`` calls.
"""

from __future__ import annotations

import re
from typing import Final

_STRING: Final = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_OPEN: Final = frozenset(b"[{")
_ALL_BYTES: Final = bytes(range(256))
_NOT_BRACKETS: Final = bytes(b for b in _ALL_BYTES if b not in b"[]{}")


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in ``body`` nest more than ``limit`` levels (malformed input errs deep)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
