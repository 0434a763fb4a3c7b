"""Every request example of README.md and docs/*.md runs, in the order a reader meets them, against a gateway in
sandbox mode started the way ``make run`` starts it; each answer is checked against what the doc shows.

How to write an example: docs/README.md (the convention is read by ``agtest/doc_examples.py``). The files run in
this order: README.md, then docs/*.md by name; variables set by one example (``sets VAR=path`` or ``export``)
are there for every later one, in any file. ``GATEWAY`` is the test gateway's URL; the commands run in a folder
whose ``.assessgate`` is the gateway's data folder and ``.venv`` this one, with ``assessgate`` and a ``curl``
that reports each status on the path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from agtest import REPO_ROOT
from agtest.doc_examples import (
    Example,
    ExampleError,
    commands_of,
    examples_in,
    json_values,
    mismatches,
    value_at,
)
from agtest.servers import free_port

DOCS: Final = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
STATUS_LINE: Final = "agtest-http-status "
#: How long an ``eventually`` example may take to come true (a job of the embedded worker, say).
EVENTUALLY_S: Final = 30.0
#: Variables of the test's own shell that are not the examples' doing.
NOT_SET_BY_EXAMPLES: Final = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})


def all_examples() -> list[Example]:
    return [example for doc in DOCS for example in examples_in(doc, REPO_ROOT)]


def test_every_fenced_command_in_the_docs_is_an_example_the_test_can_classify() -> None:
    try:
        examples = all_examples()
    except ExampleError as exc:
        pytest.fail(str(exc))
    assert sum(1 for e in examples if e.spec.skip is None) >= 10  # the quickstart at least: not vacuous


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    statuses: list[int]
    env: dict[str, str]

    def answer(self) -> Any:
        values = json_values(self.stdout)
        return values[-1] if values else None


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``make run`` in a folder of its own: migrate, then serve in sandbox mode (no Kombo API key) on a free port.
    Yields the gateway's URL and the folder (its ``.assessgate`` is the data folder)."""
    folder = tmp_path_factory.mktemp("checkout")
    (folder / ".venv").symlink_to(sys.prefix)  # the clone's .venv, as `make run` leaves it
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSESSGATE_")}
    env |= {"ASSESSGATE_PLUGINS_FILE": str(REPO_ROOT / "plugins.toml"), "ASSESSGATE_LOG_LEVEL": "warning"}
    command = [str(Path(sys.executable).parent / "assessgate")]
    subprocess.run([*command, "migrate"], cwd=folder, env=env, check=True)
    with (folder / "gateway.log").open("w") as log:
        for _attempt in range(3):  # a free port may be taken by another process before the gateway binds it
            port = free_port()
            server = subprocess.Popen(
                [*command, "serve"], cwd=folder, env=env | {"ASSESSGATE_PORT": str(port)}, stdout=log, stderr=log
            )
            url = f"http://127.0.0.1:{port}"
            if ours_ready(url, server, folder):
                break
            server.terminate()
            server.wait(timeout=30)
        else:
            pytest.fail(f"the gateway did not start: {(folder / 'gateway.log').read_text()[-3000:]}")
        try:
            yield url, folder
        finally:
            server.terminate()
            server.wait(timeout=30)


def ours_ready(url: str, server: subprocess.Popen[bytes], folder: Path) -> bool:
    """Whether the gateway answers, and it is this one (it takes the admin token it generated into ``folder``),
    within 60 s; False when the process ended (its port was taken) or another server answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        token = folder / ".assessgate" / "admin-token"
        try:
            if token.exists() and httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                who = httpx.get(f"{url}/v1/jobs", headers={"Authorization": f"Bearer {token.read_text().strip()}"})
                return who.status_code == 200
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # shape: polling a starting process; nothing to wait on but its port
    return False


def curl_shim(folder: Path) -> Path:
    """A ``curl`` that adds ``--silent --show-error`` and prints each answer's status on stderr."""
    real = shutil.which("curl")
    assert real is not None, "the examples need curl"
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "curl"
    shim.write_text(
        f'#!/bin/sh\nexec {real} --silent --show-error -w "%{{stderr}}{STATUS_LINE}%{{http_code}}\\n" "$@"\n'
    )
    shim.chmod(0o755)
    return bin_dir


def run_shell(example: Example, env: dict[str, str], cwd: Path) -> Outcome:
    env_file = cwd / ".example-env"
    script = f"{commands_of(example)}\nenv -0 > {env_file}\n"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    statuses = [
        int(line.removeprefix(STATUS_LINE)) for line in done.stderr.splitlines() if line.startswith(STATUS_LINE)
    ]
    after = dict(env)
    if done.returncode == 0:
        pairs = (item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
        after = {name: value for name, value in pairs if name not in NOT_SET_BY_EXAMPLES}
    stderr = "\n".join(line for line in done.stderr.splitlines() if not line.startswith(STATUS_LINE))
    return Outcome(done.returncode, done.stdout, stderr, statuses, after)


def run_http(example: Example, env: dict[str, str]) -> Outcome:
    """``METHOD path-or-URL``, headers, a blank line, the body; ``$VAR`` filled in from the examples' variables."""
    head, _, body = example.code.partition("\n\n")
    request_line, *header_lines = _expand(head, env).splitlines()
    method, target = request_line.split()[:2]
    headers = dict(line.split(":", 1) for line in header_lines)
    url = target if target.startswith("http") else env["GATEWAY"] + target
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    answer = httpx.request(method, url, headers=headers, content=_expand(body, env))
    return Outcome(0, answer.text, "", [answer.status_code], env)


def _expand(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Z][A-Z0-9_]*)\}?", lambda m: env.get(m[1], m[0]), text)


def problems_of(example: Example, outcome: Outcome) -> list[str]:
    spec = example.spec
    if outcome.returncode != 0:
        return [f"exit status {outcome.returncode}: {outcome.stderr.strip()[-500:]}"]
    problems = []
    if spec.status is not None:
        if not outcome.statuses:
            problems.append("no HTTP request was made (expects a status: use curl, or say `runs`)")
        problems += [f"answered {s}, the doc says {spec.status}" for s in outcome.statuses if s != spec.status]
    if example.answer is not None:
        problems += mismatches(example.answer, outcome.answer(), outcome.env)
    for variable, path in spec.sets.items():
        try:
            value_at(outcome.answer(), path)
        except (KeyError, IndexError, TypeError, ValueError):
            problems.append(f"sets {variable}: the answer has no {path}")
    return problems


def run_example(example: Example, env: dict[str, str], cwd: Path) -> tuple[Outcome, list[str]]:
    deadline = time.monotonic() + (EVENTUALLY_S if example.spec.eventually else 0)
    while True:
        outcome = run_http(example, env) if example.lang == "http" else run_shell(example, env, cwd)
        problems = problems_of(example, outcome)
        if not problems or time.monotonic() >= deadline:
            return outcome, problems
        time.sleep(0.5)  # shape: an `eventually` example waits as its reader would, then asks again


def test_every_example_runs_and_answers_as_the_docs_show(checkout: tuple[str, Path]) -> None:
    url, folder = checkout
    bin_dir = curl_shim(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSESSGATE_")}
    env |= {"GATEWAY": url, "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{env.get('PATH', '')}"}
    ran = 0
    for example in all_examples():
        if example.spec.skip is not None:
            continue
        outcome, problems = run_example(example, env, folder)
        if problems:
            pytest.fail(
                f"{example.where}: the example does not answer as the doc shows:\n  "
                + "\n  ".join(problems)
                + f"\n--- its output ---\n{outcome.stdout[-2000:]}\n--- the gateway's log ---\n"
                + (folder / "gateway.log").read_text()[-2000:]
            )
        env = outcome.env | {var: value_at(outcome.answer(), path) for var, path in example.spec.sets.items()}
        ran += 1
    assert ran >= 10
