"""The migration set: an ordered list of hand-written, expand-only steps that run on both engines.

Why not piccolo's auto-migrations: piccolo does not support them on SQLite, and a diff-generated file
can contain ``ALTER COLUMN``, which SQLite cannot run (stack-notes §1.3). Each step here is a module
with ``ID`` and ``statements(dialect)``; the runner records applied ids in ``assessgate_migration``
and runs each step in its own transaction. On PostgreSQL an advisory lock makes concurrent runs safe
(the second waits, then finds nothing to do). Rules: only add tables, nullable or defaulted columns and
indexes; anything else is a new step with a per-dialect rebuild. ``tests/integration`` runs the whole
set from empty on both engines and checks the result against ``storage.tables``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Final

from storage.database import Database, Dialect
from storage.migrations import (
    m0001_tenants,
    m0002_outbox,
    m0003_sandbox_snapshot,
    m0004_tenant_layer,
    m0005_vendor_catalog,
    m0006_webhook_events,
    m0007_orders,
    m0008_tenant_routes,
    m0009_results,
    m0010_adapter_runtime,
    m0011_order_pii_purge,
    m0012_key_scopes_and_audit,
    m0013_order_changes,
)

MIGRATIONS: Final[Sequence[ModuleType]] = (
    m0001_tenants,
    m0002_outbox,
    m0003_sandbox_snapshot,
    m0004_tenant_layer,
    m0005_vendor_catalog,
    m0006_webhook_events,
    m0007_orders,
    m0008_tenant_routes,
    m0009_results,
    m0010_adapter_runtime,
    m0011_order_pii_purge,
    m0012_key_scopes_and_audit,
    m0013_order_changes,
)
_LOCK_KEY: Final = 0x61737367  # "assg": any constant shared by every assessgate process

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS assessgate_migration (
    id VARCHAR(100) PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL
)
"""


def known_ids() -> list[str]:
    return [module.ID for module in MIGRATIONS]


def statements_of(module: ModuleType, dialect: Dialect) -> list[str]:
    build: Callable[[Dialect], list[str]] = module.statements
    return build(dialect)


async def applied_ids(db: Database) -> set[str]:
    """Ids recorded as applied; empty when the bookkeeping table does not exist yet."""
    if db.is_sqlite:
        exists = await db.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'assessgate_migration'")
    else:
        exists = await db.fetch("SELECT to_regclass('assessgate_migration') IS NOT NULL AS name")
        exists = [row for row in exists if row["name"]]
    if not exists:
        return set()
    return {row["id"] for row in await db.fetch("SELECT id FROM assessgate_migration")}


async def pending_ids(db: Database) -> list[str]:
    done = await applied_ids(db)
    return [mid for mid in known_ids() if mid not in done]


async def migrate(db: Database, *, on_step: Callable[[str], None] | None = None) -> list[str]:
    """Apply every pending step in order; returns the ids applied by this call."""
    applied_now: list[str] = []
    async with db.tx():
        if not db.is_sqlite:
            await db.fetch("SELECT pg_advisory_xact_lock({})", _LOCK_KEY)
        await db.execute(_BOOKKEEPING)
    for module in MIGRATIONS:
        async with db.tx():
            if not db.is_sqlite:
                await db.fetch("SELECT pg_advisory_xact_lock({})", _LOCK_KEY)
            if await db.fetch("SELECT id FROM assessgate_migration WHERE id = {}", module.ID):
                continue
            for statement in statements_of(module, db.dialect):
                await db.execute(statement)
            await db.fetch(
                "INSERT INTO assessgate_migration (id, applied_at) VALUES ({}, {})",
                module.ID,
                datetime.now(UTC),
            )
        applied_now.append(module.ID)
        if on_step is not None:
            on_step(module.ID)
    return applied_now
