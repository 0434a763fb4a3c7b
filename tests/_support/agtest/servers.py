"""Real HTTP servers for tests: an ASGI app served by uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

#: How often uvicorn's own loop looks at ``should_exit`` (and refreshes its Date header).
TICK_S = 0.1


def free_port() -> int:
    [port] = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports: every socket stays bound until all are chosen (closed one by one,
    the kernel may hand the same port out twice, and a gateway and its sandbox then fight over it)."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


class _Server(uvicorn.Server):
    """uvicorn's server, woken by :meth:`stop` at once instead of at its next tick: a test stopping two or three
    servers waited up to a tick for each."""

    _wake: asyncio.Event
    _loop: asyncio.AbstractEventLoop

    async def main_loop(self) -> None:
        self._wake, self._loop = asyncio.Event(), asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000  # uvicorn's own loop: on_tick refreshes the Date header every 10th
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)

    def stop(self) -> None:
        self.should_exit = True
        if hasattr(self, "_loop"):
            self._loop.call_soon_threadsafe(self._wake.set)


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL once it accepts connections.

    The listening socket is bound here, before the app starts: uvicorn would bind only after the app's startup
    (a database opened, plugins loaded), and a port chosen earlier could meanwhile become the local port of some
    outgoing connection ("address already in use", seen under load). Without ``port``, any free one."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a server restarted on its port (TIME_WAIT)
    sock.bind(("127.0.0.1", port or 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = _Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    started = threading.Event()

    def wait_started() -> None:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.01)
        started.set()

    wait_started()
    if not server.started:
        raise RuntimeError("the server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=10)
