"""Tenants (the vendor's customers) and their API keys, as the domain sees them."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Final

import msgspec

API_KEY_PREFIX: Final = "agk_"


class Tenant(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    external_id: str | None
    integration_id: str | None
    integration_state: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


def new_api_key() -> str:
    """A tenant API key: shown once, stored only as its hash (it has 256 bits of entropy, so SHA-256 suffices)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
