"""Where the sandbox keeps its state between restarts: nowhere (memory, the default) or a store the host gives.

Inside the gateway, ``api`` passes a store backed by the gateway's database, so a sandbox-mode demo keeps
its integrations and orders across restarts. The whole state is saved as one JSON snapshot after every
change, which is plenty for a development tool; a store that keeps nothing is not handed one at all (the
snapshot grows with the state, and benchmarks run the in-memory sandbox with thousands of orders).
"""

from __future__ import annotations

from typing import Protocol


class SandboxStore(Protocol):
    #: Whether ``save`` keeps anything (if not, no snapshot is taken).
    persistent: bool

    async def load(self) -> bytes | None: ...

    async def save(self, snapshot: bytes) -> None: ...


class MemoryStore:
    """Keeps nothing: a restart starts an empty sandbox."""

    persistent = False

    async def load(self) -> bytes | None:
        return None

    async def save(self, snapshot: bytes) -> None:
        del snapshot
