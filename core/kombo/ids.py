"""The ids and short tokens Kombo sends that we store in ``VARCHAR`` columns, constrained at decode time.

PostgreSQL refuses a value longer than its column and any text holding a NUL; SQLite takes both. Left to the
database, a hostile id was a 500 on one engine and a 200 on the other, and a 500 makes Kombo deliver the same
poison message again. Refusing such a value while decoding makes it the same 400 everywhere, before anything
is written. Kombo's ids are short opaque strings (``greenhouse:Fb3Gh6...``), so the bounds cost nothing real.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from msgspec import Meta

#: The ``VARCHAR`` length of every column holding a Kombo id (orders, packages, integrations, events).
MAX_ID_LENGTH: Final = 200
#: The ``VARCHAR`` length of ``webhook_event.type``.
MAX_EVENT_TYPE_LENGTH: Final = 100
#: The ``VARCHAR`` length of ``tenant.integration_state`` (Kombo's states are ``ACTIVE``, ``INVALID``, ``INACTIVE``).
MAX_STATE_LENGTH: Final = 20
#: No C0 control character (NUL above all) and no DEL: none belongs in an id, a type or a state. ``\Z``, not
#: ``$``: Python's ``$`` also matches before a final newline, and msgspec reads patterns with Python's ``re``.
PRINTABLE_PATTERN: Final = r"^[^\x00-\x1f\x7f]+\Z"
_PRINTABLE: Final = re.compile(PRINTABLE_PATTERN)

KomboId = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LENGTH, pattern=PRINTABLE_PATTERN)]
EventTypeName = Annotated[str, Meta(min_length=1, max_length=MAX_EVENT_TYPE_LENGTH, pattern=PRINTABLE_PATTERN)]
StateName = Annotated[str, Meta(min_length=1, max_length=MAX_STATE_LENGTH, pattern=PRINTABLE_PATTERN)]


def is_storable_id(value: str) -> bool:
    """Whether ``value`` fits :data:`KomboId`: for documents built in code rather than decoded."""
    return 0 < len(value) <= MAX_ID_LENGTH and _PRINTABLE.match(value) is not None
