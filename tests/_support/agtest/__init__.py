"""Shared test helpers (on pytest's ``pythonpath``; never ``import tests.*``: piccolo ships a ``tests`` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
FIXTURES: Final = REPO_ROOT / "tests" / "fixtures"

#: Run a test on one engine only (for behaviour that exists on one engine by design).
only_postgres = pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
only_sqlite = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
