"""assessgate's public plugin surface: third parties import ``assessgate.plugin`` and ``assessgate.testing`` and
nothing else of ours. The example plugin and the adapter guide are held to that, and the public names are
pinned, so a change to them is a deliberate one (as httpx pins its ``__all__``)."""

from __future__ import annotations

import ast
import re
import tomllib
from types import ModuleType
from typing import Any

import pytest

import assessgate.plugin
import assessgate.testing
from agtest import REPO_ROOT

pytestmark = pytest.mark.anyio

EXAMPLES = REPO_ROOT / "examples"
GUIDE = REPO_ROOT / "docs" / "adapters.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

PLUGIN_NAMES = {
    *("API_VERSION", "AdapterPlugin", "Adapter", "HandlesEvents", "HostsForm", "HasRequirements", "Requirement"),
    *("Decision", "Accept", "Reject", "Inline"),
    *("OrderView", "Candidate", "Application", "Job", "Location", "HiringTeamMember", "PackageType"),
    *("AdapterEvent", "Timer", "LinkOpened", "FormSubmitted", "Callback", "Redirect"),
    *("FormSpec", "FormField", "FieldKind"),
    *("AdapterContext", "Mailer", "MailMessage", "HttpClient", "HttpReply"),
    *("ResultSubmission", "ResultBody", "ResultStatus", "Attribute", "TextAttribute", "SubResultAttribute"),
    *("SubResultScore", "SubResultStatus", "Attachment", "MAX_ATTACHMENTS", "format_timestamp"),
    *("RemoteFields", "SmartRecruitersFields", "RecruiteeFields", "WorkdayFields", "WorkdayAssessCandidateData"),
    *("WorkdayCandidateAssessmentData", "WorkdayTestResultData", "WorkdayStatusReference"),
    *("AssessgateError", "AdapterError", "ValidationFailed", "FieldError"),
}
TESTING_NAMES = {"assert_conforms", "conformance_problems", "recording_context", "Recorded", "sample_order"}


def internal_packages() -> set[str]:
    """Every top-level package this repository ships or import-linter watches, except the public one."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    watched = pyproject["tool"]["importlinter"]["root_packages"]
    packages = {pattern.split(".")[0].rstrip("*") for pattern in shipped} | set(watched)
    return packages - {"assessgate"}


def imported_top_levels(source: str, filename: str) -> set[str]:
    """The top-level packages a module imports absolutely (relative imports stay inside its own package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def guide_blocks() -> list[str]:
    return PYTHON_BLOCK.findall(GUIDE.read_text())


def test_the_internal_packages_are_found() -> None:
    assert {"core", "tenants", "adapters", "api", "sandbox"} <= internal_packages()
    assert "assessgate" not in internal_packages()


def test_the_example_plugins_import_only_the_public_surface() -> None:
    internal = internal_packages()
    sources = [p for p in EXAMPLES.rglob("*.py") if "build" not in p.relative_to(EXAMPLES).parts]
    assert sources, f"no example plugin under {EXAMPLES}"
    used: set[str] = set()
    for path in sources:
        imported = imported_top_levels(path.read_text(), str(path))
        assert not imported & internal, f"{path.relative_to(REPO_ROOT)} imports internal {sorted(imported & internal)}"
        used |= imported
    assert "assessgate" in used


def test_the_guide_imports_only_the_public_surface() -> None:
    blocks = guide_blocks()
    assert blocks, "docs/adapters.md shows no python"
    internal = internal_packages()
    for index, block in enumerate(blocks):
        imported = imported_top_levels(block, f"docs/adapters.md python block {index}")
        assert not imported & internal, f"python block {index} imports internal {sorted(imported & internal)}"
    assert any("assessgate" in imported_top_levels(block, "docs") for block in blocks)


def test_the_internal_import_checks_catch_an_internal_import() -> None:
    # The checks above pass vacuously if imports are not seen; these forms must all be.
    source = (
        "import core.adapters\nfrom adapters.conformance import x\nfrom . import sibling\nimport assessgate.plugin\n"
    )
    assert imported_top_levels(source, "probe") == {"core", "adapters", "assessgate"}


@pytest.mark.parametrize(
    ("module", "names"),
    [(assessgate.plugin, PLUGIN_NAMES), (assessgate.testing, TESTING_NAMES)],
    ids=["plugin", "testing"],
)
def test_the_public_names_are_pinned_and_resolve(module: ModuleType, names: set[str]) -> None:
    exported: list[str] = module.__all__
    assert len(exported) == len(set(exported)), "a name is listed twice"
    assert set(exported) == names
    for name in exported:
        assert getattr(module, name) is not None, name


def test_the_public_names_are_the_gateways_own_objects() -> None:
    # Re-exports, not copies: an isinstance check in the gateway holds for what a plugin builds.
    import adapters.conformance
    import core.adapters
    import core.kombo

    assert assessgate.plugin.AdapterPlugin is core.adapters.AdapterPlugin
    assert assessgate.plugin.ResultBody is core.kombo.ResultBody
    assert assessgate.testing.assert_conforms is adapters.conformance.assert_conforms


async def test_the_guides_adapter_conforms() -> None:
    """The guide's example adapter is a working plugin, not a sketch."""
    [block] = [block for block in guide_blocks() if "plugin = AdapterPlugin(" in block]
    namespace: dict[str, Any] = {"__name__": "guide_adapter"}
    exec(compile(block, "docs/adapters.md", "exec"), namespace)  # noqa: S102 - our own documentation
    await assessgate.testing.assert_conforms(namespace["plugin"], {"blocked_domains": ["spam.example"]})


async def test_a_typed_result_is_submitted_as_kombos_json() -> None:
    order = assessgate.testing.sample_order()
    ctx, recorded = assessgate.testing.recording_context(order)
    plugin = assessgate.plugin
    body = plugin.ResultBody(
        status=plugin.ResultStatus.COMPLETED,
        result_url="https://vendor.example/r/1",
        completed_at="2026-11-26T12:00:00.000Z",
        score=7.5,
        max_score=10,
        attributes=(
            plugin.TextAttribute(label="Level", value="Senior"),
            plugin.SubResultAttribute(
                id="sql",
                label="SQL",
                score=plugin.SubResultScore(value=3, max=5),
                status=plugin.SubResultStatus.COMPLETED,
            ),
        ),
        attachments=(plugin.Attachment(name="report.pdf", data_url="https://vendor.example/r/1.pdf"),),
    )
    assert await ctx.submit_result(body)
    assert recorded.results == [
        {
            "status": "COMPLETED",
            "result_url": "https://vendor.example/r/1",
            "completed_at": "2026-11-26T12:00:00.000Z",
            "score": 7.5,
            "max_score": 10,
            "attributes": [
                {"type": "TEXT", "label": "Level", "value": "Senior"},
                {
                    "type": "SUB_RESULT",
                    "id": "sql",
                    "label": "SQL",
                    "score": {"value": 3, "max": 5},
                    "status": "COMPLETED",
                },
            ],
            "attachments": [{"name": "report.pdf", "data_url": "https://vendor.example/r/1.pdf"}],
        }
    ]


async def test_a_dict_result_is_still_taken_and_both_forms_are_validated() -> None:
    ctx, recorded = assessgate.testing.recording_context(assessgate.testing.sample_order())
    await ctx.submit_result({"status": "OPEN", "result_url": "https://vendor.example/r/1"})
    assert recorded.results == [{"status": "OPEN", "result_url": "https://vendor.example/r/1"}]
    final_without_a_date = assessgate.plugin.ResultBody(
        status=assessgate.plugin.ResultStatus.COMPLETED, result_url="https://vendor.example/r/1"
    )
    with pytest.raises(assessgate.plugin.ValidationFailed) as caught:
        await ctx.submit_result(final_without_a_date)
    assert [e.path for e in caught.value.errors] == ["$.completed_at"]
    assert len(recorded.results) == 1
