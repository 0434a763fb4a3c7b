"""Shared test helpers (on pytest's ``pythonpath``; never ``import tests.*``: piccolo ships a ``tests`` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
FIXTURES: Final = REPO_ROOT / "tests" / "fixtures"
