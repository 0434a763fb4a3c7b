"""Tenants (the vendor's customers) and their API keys, as the domain sees them."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Final

import msgspec

from core.permissions import Scope

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
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None
    #: The key that minted this one (``None``: the admin token). Revoking a key revokes what it minted.
    created_by: uuid.UUID | None = None


class KeyHolder(msgspec.Struct, frozen=True, kw_only=True):
    """A live API key as authentication sees it: whose it is and what it may do."""

    key_id: uuid.UUID
    tenant_id: uuid.UUID
    scopes: frozenset[Scope]


def new_api_key() -> str:
    """A tenant API key: shown once, stored only as its hash (it has 256 bits of entropy, so SHA-256 suffices)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
