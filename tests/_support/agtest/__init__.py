"""Shared test helpers (on pytest's ``pythonpath``; never ``import tests.*``: piccolo ships a ``tests`` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
FIXTURES: Final = REPO_ROOT / "tests" / "fixtures"

import pytest  # noqa: E402 - kept below the constants it does not need

#: Run a test on one engine only (for behaviour that exists on one engine by design).
only_postgres = pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
only_sqlite = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
