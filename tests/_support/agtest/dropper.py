"""Test databases dropped in the background: a test's teardown hands its PostgreSQL database over and goes on.

``DROP DATABASE`` waits for a checkpoint of the whole server (PostgreSQL forces one per drop; the server's
``pg_stat_bgwriter.checkpoints_req`` counts them), which made the drop the largest part of a PostgreSQL test's
fixture time. One thread per process drops the databases handed over, one after another, while the tests go
on; ``drain`` (at the end of the session, before the sweep) waits for it. Each drop goes to the server and the
bookkeeping current when the database was handed over (a test may point ``ASSESSGATE_TEST_POSTGRES_URL``
elsewhere meanwhile). A drop that fails leaves the name in ``postgres.created``, so the session-end sweep drops
it and says so.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Final

from agtest import postgres

#: What a failed background drop raised, one line each (the sweep then drops the database).
problems: list[str] = []
_STOP: Final = None
_queue: queue.Queue[tuple[str, str, set[str]] | None] = queue.Queue()
_thread: list[threading.Thread] = []


def drop_soon(url: str) -> None:
    """Drop the database at ``url`` on the background thread (started on first use)."""
    _queue.put((url, postgres.admin_url(), postgres.created))
    if not _thread:
        thread = threading.Thread(target=_drop_all, name="test-database-dropper", daemon=True)
        _thread.append(thread)
        thread.start()


def _drop_all() -> None:
    while (item := _queue.get()) is not _STOP:
        url, admin, registry = item
        try:
            asyncio.run(postgres.drop_database(url, admin=admin, registry=registry))
        except Exception as exc:  # noqa: BLE001 - the name stays in the registry: the sweep drops it
            problems.append(f"{url.rsplit('/', 1)[-1]}: {type(exc).__name__}: {exc}")


def drain(timeout_s: float = 2 * postgres.READY_WITHIN_S) -> bool:
    """Wait until every database handed over is dropped (or its drop failed); False if ``timeout_s`` passed."""
    if not _thread:
        return True
    thread = _thread.pop()
    _queue.put(_STOP)
    thread.join(timeout_s)
    return not thread.is_alive()
