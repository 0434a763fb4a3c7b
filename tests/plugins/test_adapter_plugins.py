"""Adapters as plugins: the example out-of-tree package is installed, discovered through its entry point,
passes the conformance kit and handles an order; broken plugins are reported and stop nothing else."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from adapters.accept import plugin as accept_plugin
from adapters.conformance import assert_conforms, conformance_problems
from agtest import REPO_ROOT
from core.adapters import API_VERSION, AdapterPlugin, Reject
from core.settings import Settings

ASSESSGATE = str(Path(sys.executable).with_name("assessgate"))
EXAMPLE = REPO_ROOT / "examples" / "assessgate-example-adapter"


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True, capture_output=True)
    importlib.invalidate_caches()


@pytest.fixture(scope="module")
def example_installed() -> Iterator[None]:
    # A regular (not editable) install: its module is importable in this process at once.
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(EXAMPLE))
    try:
        yield
    finally:
        pip("uninstall", "-y", "assessgate-example-adapter")


def adapters_list(tmp_path: Path, plugins_toml: str = "", **env: str) -> str:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(plugins_toml)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ASSESSGATE_")}
    environment.update(ASSESSGATE_PLUGINS_FILE=str(plugins), **env)
    result = subprocess.run(
        [ASSESSGATE, "adapters", "list"], env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout


def row(listing: str, name: str) -> str:
    return next(line for line in listing.splitlines() if line.startswith(name + " "))


@pytest.mark.anyio
async def test_the_builtin_accept_adapter_conforms() -> None:
    await assert_conforms(accept_plugin, {})


@pytest.mark.anyio
async def test_the_kit_reports_what_a_bad_adapter_gets_wrong() -> None:
    class Lazy:
        async def decide(self, order: Any, ctx: Any) -> Any:
            return Reject(message=" ")

        async def start(self, order: Any, ctx: Any) -> None:
            raise RuntimeError("SMTP down")

    class Empty(msgspec.Struct):
        pass

    bad = AdapterPlugin(name="lazy", api_version=API_VERSION + 1, config_type=Empty, create=lambda _c: Lazy())
    problems = await conformance_problems(bad, {})
    assert any("api_version" in p for p in problems)
    assert any("rejection needs a message" in p for p in problems)
    assert any("start() failed on attempt 1" in p for p in problems)
    assert await conformance_problems(object(), {}) == ["the entry point must name an AdapterPlugin, not object"]


def test_the_example_is_discovered_listed_and_passes_its_own_conformance_test(
    example_installed: None, tmp_path: Path
) -> None:
    listing = adapters_list(tmp_path)
    assert row(listing, "domain_guard").split() == ["domain_guard", "assessgate-example-adapter", "0.1.0", "loaded"]
    assert row(listing, "accept").split()[-1] == "loaded"
    own_test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        capture_output=True,
        text=True,
        check=False,
        cwd=EXAMPLE,
    )
    assert own_test.returncode == 0, own_test.stdout + own_test.stderr


def test_broken_config_and_broken_imports_are_reported_and_stop_nothing_else(
    example_installed: None, tmp_path: Path
) -> None:
    bad_config = adapters_list(tmp_path, "[adapters.domain_guard]\nblocked = [1]\n")
    assert "failed" in row(bad_config, "domain_guard")
    assert "blocked" in row(bad_config, "domain_guard")
    assert row(bad_config, "accept").split()[-1] == "loaded"

    broken = tmp_path / "broken_pkg"
    broken.mkdir()
    (broken / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "assessgate-broken-adapter"\nversion = "9.9.9"\n'
        '[project.entry-points."assessgate.adapters"]\nbroken = "no_such_module_anywhere:plugin"\n'
        "[tool.setuptools]\npy-modules = []\n"
    )
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(broken))
    try:
        listing = adapters_list(tmp_path)
    finally:
        pip("uninstall", "-y", "assessgate-broken-adapter")
    assert "ModuleNotFoundError" in row(listing, "broken")
    assert row(listing, "broken").split()[1:3] == ["assessgate-broken-adapter", "9.9.9"]
    assert row(listing, "domain_guard").split()[-1] == "loaded"
    assert row(listing, "accept").split()[-1] == "loaded"


def test_assessgate_adapters_restricts_what_loads(example_installed: None, tmp_path: Path) -> None:
    listing = adapters_list(tmp_path, ASSESSGATE_ADAPTERS="accept")
    assert "disabled" in row(listing, "domain_guard")
    assert row(listing, "accept").split()[-1] == "loaded"


@pytest.mark.anyio
async def test_the_example_handles_an_order_end_to_end(
    example_installed: None, db: Any, test_settings: Settings, tmp_path: Path
) -> None:
    import random
    import uuid

    from agtest import FIXTURES
    from api.composition import open_gateway
    from core.catalog import TenantPackage
    from core.kombo import AssessmentOrderReceived, PackageType, parse_event
    from jobs.worker import Worker
    from tenants.catalogs import Catalogs
    from tenants.repository import TenantRepository

    plugins = tmp_path / "routes.toml"
    plugins.write_text(
        '[routes]\nSKILLS_TEST = "domain_guard"\n[adapters.domain_guard]\nblocked_domains = ["spam.example"]\n'
    )
    settings = msgspec.structs.replace(test_settings, plugins_file=str(plugins))
    tenant = await TenantRepository(db).create(name="T", external_id=None)
    event = parse_event((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_bytes())
    assert isinstance(event, AssessmentOrderReceived)
    await TenantRepository(db).bind_integration(tenant.id, event.data.integration_id)
    package = TenantPackage(id=event.data.package_id, type=PackageType.SKILLS_TEST, name="J", description="")
    await Catalogs(db, max_deletion_share=0.5).set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)
    async with open_gateway(settings, db=db) as gateway:
        assert "domain_guard" in gateway.adapters.loaded
        blocked = msgspec.structs.replace(
            event.data,
            id=uuid.uuid4().hex,
            candidate=msgspec.structs.replace(event.data.candidate, email="x@spam.example"),
        )
        refused = await gateway.intake.ingest(blocked, inline=False, source="webhook")
        accepted = await gateway.intake.ingest(event.data, inline=False, source="webhook")
        assert (refused.status, refused.body) == (
            422,
            {"message": "Candidates with spam.example addresses cannot take this assessment."},
        )
        assert accepted.status == 200
        await Worker(db, gateway.registry, rng=random.Random(1)).drain()
    kinds = [r["kind"] for r in await db.fetch("SELECT kind FROM order_timeline ORDER BY at, id")]
    assert "example.invited" in kinds
    assert kinds.count("start.done") == 1
