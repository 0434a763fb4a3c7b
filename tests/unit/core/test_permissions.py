"""Scopes: stored and read back, and the legacy set migration 0012 wrote into existing keys."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.permissions import (
    ALL_SCOPES,
    DEFAULT_SCOPES,
    LEGACY_SCOPES,
    Admin,
    Scope,
    allows,
    decode_scopes,
    encode_scopes,
)
from storage.migrations import m0012_key_scopes_and_audit


@given(st.frozensets(st.sampled_from(sorted(Scope))))
def test_scopes_survive_storage(scopes: frozenset[Scope]) -> None:
    assert decode_scopes(encode_scopes(scopes)) == scopes


def test_unknown_stored_scopes_are_dropped_never_widened() -> None:
    assert decode_scopes("orders:read everything admin keys:manage") == {Scope.ORDERS_READ, Scope.KEYS_MANAGE}


def test_the_migration_spelled_out_the_legacy_set_of_its_day() -> None:
    assert decode_scopes(m0012_key_scopes_and_audit.LEGACY) == LEGACY_SCOPES
    assert Scope.KEYS_MANAGE not in LEGACY_SCOPES
    assert DEFAULT_SCOPES < ALL_SCOPES


def test_a_scope_rule_passes_only_with_the_scope_and_admin_rules_never_for_keys() -> None:
    assert allows(frozenset({Scope.ORDERS_READ}), Scope.ORDERS_READ)
    assert not allows(frozenset({Scope.ORDERS_READ}), Scope.RESULTS_WRITE)
    assert not allows(ALL_SCOPES, Admin.ONLY)
