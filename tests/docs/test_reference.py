"""docs/reference.md is what ``assessgate reference`` writes from the OpenAPI document, and it lists what a
reader needs: every route, every enum (with the values the code has) and the result body's fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar

from agtest import REPO_ROOT
from api.bodies import RESULT_EXAMPLE
from api.reference import reference_app, render_app
from core.kombo import PackageType, ResultStatus
from core.order_status import OrderStatus
from core.permissions import Scope
from core.result_bounds import ResultLimits
from core.result_rules import validate_submission

REFERENCE = REPO_ROOT / "docs" / "reference.md"


@pytest.fixture(scope="module")
def app() -> Litestar:
    return reference_app()


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def test_the_committed_reference_is_the_generated_one(app: Litestar) -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_app(app), "docs/reference.md is stale: run `make reference`"


def test_every_route_of_the_document_is_in_the_reference(document: dict[str, Any]) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^#### `(\w+) (\S+)`$", text, re.MULTILINE))
    in_document = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert listed == in_document
    assert len(listed) >= 40


@pytest.mark.parametrize("enum", [PackageType, OrderStatus, ResultStatus, Scope])
def test_the_enums_a_reader_needs_are_enums_with_every_value(enum: type, document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"][enum.__name__]
    assert sorted(schema["enum"]) == sorted(member.value for member in enum)  # type: ignore[attr-defined]
    row = next(line for line in REFERENCE.read_text().splitlines() if line.startswith(f"| `{enum.__name__}` |"))
    assert all(f"`{member.value}`" in row for member in enum)  # type: ignore[attr-defined]


def test_every_request_body_has_a_schema_and_an_example(document: dict[str, Any]) -> None:
    bare = [
        f"{method.upper()} {path}"
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
        and (schema := next(iter(op["requestBody"]["content"].values()))["schema"])
        and "$ref" not in schema
        and not schema.get("properties")
        and not schema.get("examples")
    ]
    assert bare == []


def test_the_result_body_is_documented_field_by_field_with_an_example_the_route_takes(document: dict[str, Any]) -> None:
    operation = document["paths"]["/v1/tenants/{tenant_id}/orders/{order_id}/result"]["put"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"status", "result_url"}
    assert sorted(schema["properties"]["status"]["enum"]) == sorted(s.value for s in ResultStatus)
    assert schema["examples"] == [RESULT_EXAMPLE]
    assert validate_submission(RESULT_EXAMPLE, ResultLimits()) == []
