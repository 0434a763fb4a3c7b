"""Who may do what: the admin token, and tenant API keys with scopes.

The admin token (the vendor's operators) may do everything, on every tenant. A tenant API key acts only
on its own tenant (any other tenant's id is a 404, so a key cannot learn that it exists) and only within
its scopes. Each tenant route declares one :class:`Access` rule; ``api/auth.py`` enforces it in one guard,
before the request's body is read. ``docs/security.md`` holds the permission table, and a test compares it
with the rules the routes declare.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final


class Scope(enum.StrEnum):
    """What a tenant API key may do on its own tenant."""

    TENANT_READ = "tenant:read"  # the tenant, its catalog, routes, adapter settings, secret names, event log
    ORDERS_READ = "orders:read"  # its orders and their timelines
    RESULTS_WRITE = "results:write"  # results, uploads, reports to an order's adapter
    CATALOG_WRITE = "catalog:write"  # the tenant's catalog
    INTEGRATION_MANAGE = "integration:manage"  # connect links, binding its own integration, relink links
    SECRETS_WRITE = "secrets:write"  # store and delete the tenant's secrets (never read back)
    KEYS_MANAGE = "keys:manage"  # list, create (within its own scopes) and revoke API keys


class Admin(enum.Enum):
    """The rule of routes only the admin token may use (tenant fields, routing, adapter settings, ...)."""

    ONLY = "admin"


#: A route's rule: a scope a tenant key needs (the admin token always passes), or admin only.
Access = Scope | Admin

ALL_SCOPES: Final = frozenset(Scope)
#: What a new key gets unless it asks for more: what a vendor's platform needs to fulfil orders.
DEFAULT_SCOPES: Final = frozenset({Scope.TENANT_READ, Scope.ORDERS_READ, Scope.RESULTS_WRITE})
#: Keys created before scopes existed keep what they could do, except minting keys (which let a leaked key
#: outlive its own revocation). Migration 0012 writes this set into their rows.
LEGACY_SCOPES: Final = ALL_SCOPES - {Scope.KEYS_MANAGE}


def encode_scopes(scopes: Iterable[Scope]) -> str:
    """Scopes as stored: space-separated, sorted (the OAuth convention)."""
    return " ".join(sorted(str(s) for s in set(scopes)))


def decode_scopes(text: str) -> frozenset[Scope]:
    """Stored scopes back; names this version does not know are dropped (never widened)."""
    known = {s.value for s in Scope}
    return frozenset(Scope(word) for word in text.split() if word in known)


def allows(scopes: frozenset[Scope], rule: Access) -> bool:
    """Whether a tenant key with ``scopes`` passes ``rule`` (on its own tenant)."""
    return isinstance(rule, Scope) and rule in scopes
