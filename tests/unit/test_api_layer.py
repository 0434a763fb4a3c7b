"""The API layer stays thin: nothing under ``api/`` but the composition root runs SQL or builds a repository.

Routes, commands, admission and the demo call the services ``api/composition.py`` builds (the ``Gateway``); the
services live in the layer they belong to. This scans the source (no import), so it holds for code no test runs.
The classes that may not be built in ``api/`` are derived, not listed: every class of the layers below whose
constructor (or dataclass field) takes a ``Database``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from agtest import REPO_ROOT

SERVICE_LAYERS: Final = ("storage", "jobs", "tenants", "orders", "integrations")
COMPOSITION_ROOT: Final = REPO_ROOT / "api" / "composition.py"
SQL: Final = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\b[\s\S]*\bSET\b|\bDELETE\s+FROM\b")
QUERY_METHODS: Final = frozenset({"fetch", "execute"})


def modules(package: str) -> Iterator[Path]:
    yield from sorted((REPO_ROOT / package).rglob("*.py"))


def takes_a_database(node: ast.ClassDef) -> bool:
    """A constructor parameter, or a class-level field (dataclass, msgspec), annotated with ``Database``."""
    annotations = [statement.annotation for statement in node.body if isinstance(statement, ast.AnnAssign)]
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name == "__init__":
            arguments = statement.args
            annotations += [a.annotation for a in (*arguments.args, *arguments.kwonlyargs) if a.annotation is not None]
    return any(re.search(r"\bDatabase\b", ast.unparse(annotation)) for annotation in annotations)


def database_classes() -> frozenset[str]:
    found = set()
    for package in SERVICE_LAYERS:
        for path in modules(package):
            tree = ast.parse(path.read_text(), filename=str(path))
            found |= {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and takes_a_database(node)}
    return frozenset(found)


def called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def violations(source: str, forbidden_classes: frozenset[str]) -> list[str]:
    """What in ``source`` runs SQL or builds a repository, one line each (``line: what``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = called_name(node)
            if isinstance(node.func, ast.Attribute) and name in QUERY_METHODS:
                found.append(f"{node.lineno}: .{name}(...) runs SQL")
            elif name in forbidden_classes:
                found.append(f"{node.lineno}: {name}(...) builds a repository")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{node.lineno}: SQL in a string: {node.value[:60]!r}")
    return found


def test_the_derived_list_names_the_repositories_and_services_of_the_layers_below() -> None:
    derived = database_classes()
    expected = {"TenantRepository", "Outbox", "Orders", "Catalogs", "Vault", "AuditLog", "IntegrationBinding"}
    assert (
        expected | {"Results", "Uploads", "TenantAdministration", "ApiKeys", "OrderQueries", "JobOperations"} <= derived
    )


def test_the_scan_finds_sql_queries_and_repositories() -> None:
    offending = (
        "async def route(db):\n"
        "    rows = await db.fetch('SELECT id FROM tenant WHERE id = {}', 1)\n"
        "    await TenantRepository(db).require(1)\n"
        "    await repositories.Outbox(db).get('x')\n"
        "    text = f'UPDATE tenant SET name = {1}'\n"
    )
    found = violations(offending, frozenset({"TenantRepository", "Outbox"}))
    assert sorted(line.split(":")[0] for line in found) == ["2", "2", "3", "4", "5"]
    assert violations("def f(s):\n    return 'select a package from the catalog'\n", frozenset()) == []


def test_nothing_in_api_but_the_composition_root_runs_sql_or_builds_a_repository() -> None:
    forbidden = database_classes()
    found = [
        f"{path.relative_to(REPO_ROOT)}:{finding}"
        for path in modules("api")
        if path != COMPOSITION_ROOT
        for finding in violations(path.read_text(), forbidden)
    ]
    assert found == [], "call a service the Gateway holds (api/composition.py) instead:\n" + "\n".join(found)
