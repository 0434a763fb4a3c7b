"""The real processes a write-back benchmark runs (the Kombo sandbox, ``assessgate serve``, ``assessgate worker``)
and the settings they share: started as a deployment starts them, stopped at the end of their block."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.limits import NO_ADMISSION_LIMITS
from bench.target import ADMIN

ASSESSGATE = str(Path(sys.executable).with_name("assessgate"))
API_KEY = "bench-sandbox-key"
WEBHOOK_SECRET = "bench-sandbox-webhook-secret"
FERNET = "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="
AUTH = {"authorization": f"Bearer {ADMIN}"}


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


@contextmanager
def processes(commands: list[list[str]], env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:  # those started are stopped even when a later one cannot start, and killed if they will not stop
        for command in commands:
            started.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sandbox_command(sandbox_port: int, gateway_port: int) -> list[str]:
    """The Kombo sandbox, sending its signed webhooks to the gateway on ``gateway_port``."""
    command = [ASSESSGATE, "sandbox", "serve", "--port", str(sandbox_port), "--api-key", API_KEY]
    command += ["--webhook-url", f"http://127.0.0.1:{gateway_port}/kombo/webhooks"]
    return [*command, "--webhook-secret", WEBHOOK_SECRET]


def gateway_env(database_url: str, gateway_port: int, sandbox_port: int, *, embedded: bool) -> dict[str, str]:
    return {
        **os.environ,
        "ASSESSGATE_DATABASE_URL": database_url,
        "ASSESSGATE_PORT": str(gateway_port),
        "ASSESSGATE_ADMIN_TOKEN": ADMIN,
        "ASSESSGATE_SECRET_KEYS": FERNET,
        "ASSESSGATE_KOMBO_API_URL": f"http://127.0.0.1:{sandbox_port}/v1",
        "ASSESSGATE_KOMBO_API_KEY": API_KEY,
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "ASSESSGATE_EMBEDDED_WORKER": "on" if embedded else "off",
        "ASSESSGATE_LOG_LEVEL": "error",
        "ASSESSGATE_PLUGINS_FILE": str(Path(__file__).parent / "plugins.toml"),
        **NO_ADMISSION_LIMITS,
    }
