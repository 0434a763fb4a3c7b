"""Shared test helpers (on pytest's ``pythonpath``; never ``import tests.*``: piccolo ships a ``tests`` package)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import pytest

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
FIXTURES: Final = REPO_ROOT / "tests" / "fixtures"
#: Fuzzing budgets are multiplied by this: 1 in `make test`, more in `make drill` (ASSESSGATE_FUZZ_SCALE).
FUZZ_SCALE: Final = int(os.environ.get("ASSESSGATE_FUZZ_SCALE", "1"))

#: Run a test on one engine only (for behaviour that exists on one engine by design).
only_postgres = pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
only_sqlite = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
