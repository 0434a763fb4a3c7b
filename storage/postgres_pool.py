"""What the PostgreSQL pool does to its connections: on connecting (``plan_once``, when asked) and between users
(``release``)."""

from __future__ import annotations

import asyncpg


async def release(connection: asyncpg.Connection) -> None:
    """What a pooled connection needs before its next user: no open transaction.

    asyncpg's default reset also runs ``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL`` and unlocks session advisory
    locks: one more round trip for every query outside a transaction (piccolo takes a pooled connection per
    query). assessgate's locks are transaction-scoped, it listens on a connection of its own, and its one session
    setting (``plan_once``) is meant to last, so only an unfinished transaction needs undoing."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def plan_once(connection: asyncpg.Connection) -> None:
    """``DatabaseSettings.generic_plans``: a session setting, on each new connection (not a startup parameter, which
    poolers may refuse). It needs connections of its own or a session pooler: behind a transaction pooler, set it on
    the workers' role instead (``ALTER ROLE … SET plan_cache_mode = force_generic_plan``)."""
    await connection.execute("SET plan_cache_mode = force_generic_plan")
