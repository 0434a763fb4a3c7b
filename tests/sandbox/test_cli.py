"""``assessgate sandbox``: serve it alone and drive it from the command line, as a vendor's developer would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agtest.servers import free_port

ASSESSGATE = str(Path(sys.executable).with_name("assessgate"))


@pytest.fixture
def standalone() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [ASSESSGATE, "sandbox", "serve", "--port", str(port), "--api-key", "cli-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # wait until it answers (or dies)
            assert process.poll() is None, "the sandbox exited"
            assert time.monotonic() < deadline, "the sandbox did not answer"
            try:
                httpx.get(f"{url}/_sandbox/faults", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=15)


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ASSESSGATE, "sandbox", *args, "--url", url], capture_output=True, text=True, check=False)


def test_serve_and_drive_the_sandbox_from_the_cli(standalone: str) -> None:
    made = cli(standalone, "integration", "--organization", "CLI Co", "--origin-id", "t-1")
    assert made.returncode == 0, made.stderr
    integration = json.loads(made.stdout)["id"]
    added = cli(
        standalone,
        "fault",
        "add",
        "--target",
        "GET /assessment/packages",
        "--status",
        "429",
        "--code",
        "PLATFORM.RATE_LIMIT_EXCEEDED",
        "--times",
        "1",
    )
    assert added.returncode == 0, added.stderr
    assert len(json.loads(cli(standalone, "fault", "list").stdout)) == 1
    headers = {"Authorization": "Bearer cli-key", "X-Integration-Id": integration}
    first = httpx.get(f"{standalone}/v1/assessment/packages", headers=headers)
    second = httpx.get(f"{standalone}/v1/assessment/packages", headers=headers)
    assert (first.status_code, second.status_code) == (429, 200)
    assert first.json()["error"]["code"] == "PLATFORM.RATE_LIMIT_EXCEEDED"
    order = cli(standalone, "order", "--integration", integration, "--package", "pkg-1", "--email", "c@example.org")
    assert order.returncode == 0, order.stderr
    assert json.loads(order.stdout)["status"] == "OPEN"  # no webhook URL configured: left OPEN, as Kombo does
    assert cli(standalone, "fault", "clear").returncode == 0
    assert json.loads(cli(standalone, "fault", "list").stdout) == []


def test_an_unreachable_sandbox_is_reported_plainly() -> None:
    result = cli(f"http://127.0.0.1:{free_port()}", "fault", "list")
    assert result.returncode == 2
    assert "cannot reach" in result.stderr
