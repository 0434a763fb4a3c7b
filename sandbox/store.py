"""Where the sandbox keeps its state between restarts: nowhere (memory, the default) or a store the host gives.

Inside the gateway, ``api`` passes a store backed by the gateway's database, so a sandbox-mode demo keeps
its integrations and orders across restarts. The whole state is saved as one JSON snapshot after every
change, which is plenty for a development tool.
"""

from __future__ import annotations

from typing import Protocol


class SandboxStore(Protocol):
    async def load(self) -> bytes | None: ...

    async def save(self, snapshot: bytes) -> None: ...


class MemoryStore:
    """Keeps nothing: a restart starts an empty sandbox."""

    async def load(self) -> bytes | None:
        return None

    async def save(self, snapshot: bytes) -> None:
        del snapshot
