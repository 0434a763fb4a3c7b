"""Every file the docs name exists: a module moved or renamed must take its mentions along."""

from __future__ import annotations

import re

from agtest import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "SECURITY.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
#: ``folder/module.py`` (at least one folder), as the docs write them, optionally with ``:function``.
PATH = re.compile(r"(?<![\w./-])((?:[a-z_][a-z0-9_-]*/)+[a-z_][a-z0-9_]*\.py)\b")
#: Where a path written without its root is found (``agtest/...`` lives with the tests' support code).
ROOTS = (REPO_ROOT, REPO_ROOT / "tests" / "_support", REPO_ROOT / "examples" / "assessgate-example-adapter")


def test_every_python_file_the_docs_name_exists() -> None:
    missing = sorted(
        f"{doc.name}: {path}"
        for doc in DOCS
        for path in set(PATH.findall(doc.read_text()))
        if not any((root / path).exists() for root in ROOTS)
    )
    assert missing == []
