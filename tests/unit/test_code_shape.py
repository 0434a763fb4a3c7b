"""The shape a newcomer can rely on: modules of about 400 lines at most, functions of about 60, and no two
modules of the product with the same file name (so a name says where a thing lives).

An exception is written where it is made: a ``# shape:`` comment on a module's first lines or on a function's
``def`` lines, saying why.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from agtest import REPO_ROOT

PRODUCT = ("core", "storage", "jobs", "tenants", "orders", "integrations", "adapters", "api", "sandbox", "assessgate")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
#: Names that may repeat, and why: a package's own ``__init__``; route modules are named for the resource they
#: serve (``api/routes/metrics.py`` serves ``core/metrics.py``'s families); the sandbox is an application of its
#: own with the usual shell (its app, settings, errors and command line).
SHARED_NAMES = {"__init__.py"}
NAMED_FOR_THEIR_RESOURCE = ("api/routes/",)
SANDBOX_SHELL = {"sandbox/app.py", "sandbox/settings.py", "sandbox/errors.py", "sandbox/cli.py"}
MARK = "# shape:"


def modules() -> list[Path]:
    return sorted(p for package in PRODUCT for p in (REPO_ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def test_modules_are_short_or_say_why() -> None:
    long = [
        f"{relative(path)}: {count} lines"
        for path in modules()
        if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and not any(MARK in line for line in path.read_text().splitlines()[:12])
    ]
    assert long == []


def test_functions_are_short_or_say_why() -> None:
    long = []
    for path in modules():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            body_start = node.body[0].lineno
            signature = lines[node.lineno - 1 : body_start]
            if length > MAX_FUNCTION_LINES and not any(MARK in line for line in signature):
                long.append(f"{relative(path)}:{node.lineno} {node.name}: {length} lines")
    assert long == []


def test_no_two_modules_share_a_file_name_without_need() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in modules():
        name = relative(path)
        if path.name in SHARED_NAMES or name.startswith(NAMED_FOR_THEIR_RESOURCE) or name in SANDBOX_SHELL:
            continue
        by_name[path.name].append(name)
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}
