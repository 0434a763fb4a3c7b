"""The allow-list contract that keeps core pure (``lint_rules/allowed_imports.py``), on graphs made by hand."""

from __future__ import annotations

from grimp import ImportGraph

from lint_rules.allowed_imports import AllowedImportsContract


def contract() -> AllowedImportsContract:
    return AllowedImportsContract(
        name="core is pure",
        session_options={"root_packages": ["core"]},
        contract_options={"source_modules": ["core"], "allowed_modules": ["stdlib", "msgspec"]},
    )


def graph_with(*imports: tuple[str, str]) -> ImportGraph:
    graph = ImportGraph()
    graph.add_module("core")
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents=f"import {imported}")
    return graph


def test_the_standard_library_msgspec_and_core_itself_are_allowed() -> None:
    graph = graph_with(("core.a", "re"), ("core.a", "msgspec"), ("core.a", "core.b"), ("core.b", "collections.abc"))
    assert contract().check(graph, verbose=False).kept


def test_a_library_nobody_thought_to_forbid_breaks_it() -> None:
    graph = graph_with(("core.a", "re"), ("core.kombo.b", "jinja2"))
    check = contract().check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["broken"] == [{"importer": "core.kombo.b", "imported": "jinja2", "lines": [3]}]


def test_another_first_party_package_is_not_core() -> None:
    assert not contract().check(graph_with(("core.a", "tenants.repository")), verbose=False).kept
