"""The migration set: an ordered list of hand-written, expand-only steps that run on both engines.

Why not piccolo's auto-migrations: piccolo does not support them on SQLite, and a diff-generated file
can contain ``ALTER COLUMN``, which SQLite cannot run (stack-notes §1.3). Each step here is a module
with ``ID`` and ``statements(dialect)``; the runner records applied ids in ``assessgate_migration``
and runs each step in its own transaction. On PostgreSQL an advisory lock makes concurrent runs safe
(the second waits, then finds nothing to do). Rules: only add tables, nullable or defaulted columns and
indexes; anything else is a new step with a per-dialect rebuild. ``tests/integration`` runs the whole
set from empty on both engines and checks that both arrive at the same tables and columns: the steps are the one
statement of the schema (there is no second model of it to keep in step).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Final

from storage.database import Database, Dialect


def _steps() -> tuple[ModuleType, ...]:
    """Every ``mNNNN_*`` module of this package, in the order of its number (the file name is the list)."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name[:1] == "m" and m.name[1:5].isdigit())
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in names)


MIGRATIONS: Final[Sequence[ModuleType]] = _steps()
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
                datetime.now(UTC),  # bookkeeping of the deploy, not a domain time: the wall clock
            )
        applied_now.append(module.ID)
        if on_step is not None:
            on_step(module.ID)
    return applied_now
