"""The job kinds this deployment runs: one registry, built here and shared by ``serve`` and ``worker``.

Later features (catalog pushes, adapter starts, result write-backs, reconciliation) add their kinds here.
"""

from __future__ import annotations

from core.job_kinds import JobRegistry
from core.settings import Settings


def build_registry(settings: Settings) -> JobRegistry:
    del settings  # kinds will take their settings from here
    return JobRegistry()
