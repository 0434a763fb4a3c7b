"""The packages are ours (piccolo ships a top-level ``tests``; names like ``core`` are generic)."""

from __future__ import annotations

import api
import core
import core.kombo
import tenants
from agtest import REPO_ROOT


def test_packages_are_imported_from_this_checkout() -> None:
    for package in (core, tenants, api):
        assert package.__file__ is not None
        assert package.__file__.startswith(str(REPO_ROOT))


def test_kombo_exports_are_exactly_the_public_names() -> None:
    public = {name for name in vars(core.kombo) if not name.startswith("_")}
    modules = {
        "connect",
        "decoding",
        "envelopes",
        "events",
        "ids",
        "orders",
        "packages",
        "result_body",
        "signature",
        "vocabulary",
    }
    assert set(core.kombo.__all__) == public - modules
