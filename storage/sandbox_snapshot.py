"""The sandbox's state in the gateway's database (sandbox mode): one row holding the latest snapshot.

It implements ``sandbox.snapshot_store.SandboxStore`` structurally; ``tenants`` does not import the sandbox.
"""

from __future__ import annotations

from core.clock import Clock, as_datetime, wall_clock_ms
from storage.database import Database


class DatabaseSandboxStore:
    persistent = True

    def __init__(self, db: Database, *, clock_ms: Clock = wall_clock_ms) -> None:
        self.db = db
        self.clock_ms = clock_ms

    async def load(self) -> bytes | None:
        rows = await self.db.fetch("SELECT snapshot FROM sandbox_snapshot WHERE id = 1")
        return str(rows[0]["snapshot"]).encode() if rows else None

    async def save(self, snapshot: bytes) -> None:
        async with self.db.tx():
            await self.db.fetch(
                "INSERT INTO sandbox_snapshot (id, snapshot, updated_at) VALUES (1, {}, {}) "
                "ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = EXCLUDED.updated_at",
                snapshot.decode(),
                as_datetime(self.clock_ms()),
            )
