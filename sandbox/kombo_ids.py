"""Ids shaped like Kombo's examples: 24 characters of the base58 alphabet (contract §6.14, observed only)."""

from __future__ import annotations

import secrets
from typing import Final

ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(24))


def integration_id(tool: str = "sandbox") -> str:
    return f"{tool}:{new_id()}"
