"""The sandbox refuses each documented violation with Kombo's error envelope and code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agtest.sandbox_support import API_KEY, SandboxHandle
from core.kombo import ErrorEnvelope, decode_json

GOOD_RESULT: dict[str, Any] = {
    "status": "COMPLETED",
    "result_url": "https://vendor.example/report",
    "completed_at": "2026-07-23T15:42:10.000Z",
}


def api(sandbox: SandboxHandle, integration: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if integration is not None:
        headers["X-Integration-Id"] = integration
    return httpx.Client(base_url=sandbox.api_url, headers=headers, timeout=30)


def assert_error(response: httpx.Response, status: int, code: str | None, contains: str = "") -> None:
    assert response.status_code == status, response.text
    envelope = decode_json(response.content, ErrorEnvelope)
    assert envelope.status == "error"
    assert envelope.error.code == code
    assert contains in envelope.error.message


def attachment(**fields: Any) -> dict[str, Any]:
    return {"name": "report.pdf", **fields}


RESULT_VIOLATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("result_url missing", {"status": "COMPLETED", "completed_at": "2026-07-23T15:42:10Z"}, "result_url"),
    ("status REJECTED", {**GOOD_RESULT, "status": "REJECTED"}, "status"),
    ("timestamp with offset", {**GOOD_RESULT, "completed_at": "2026-07-23T15:42:10+00:00"}, "completed_at"),
    (
        "six attachments",
        {**GOOD_RESULT, "attachments": [attachment(data_url="https://x.example/a")] * 6},
        "attachments",
    ),
    (
        "data and data_url",
        {
            **GOOD_RESULT,
            "attachments": [attachment(content_type="application/pdf", data="AA==", data_url="https://x.example/a")],
        },
        "exactly one",
    ),
    ("neither data nor data_url", {**GOOD_RESULT, "attachments": [attachment()]}, "exactly one"),
    (
        "content type with +",
        {**GOOD_RESULT, "attachments": [attachment(content_type="image/svg+xml", data="AA==")]},
        "content_type",
    ),
    (
        "SUB_RESULT max below 1",
        {
            **GOOD_RESULT,
            "attributes": [
                {"type": "SUB_RESULT", "id": "a", "label": "A", "score": {"value": 0, "max": 0}, "status": "COMPLETED"}
            ],
        },
        "max",
    ),
    (
        "completed_at missing on a final status",
        {"status": "CANCELLED", "result_url": "https://v.example"},
        "completed_at",
    ),
    ("result_url not a URI", {**GOOD_RESULT, "result_url": "not a url"}, "result_url"),
    ("result_url without a host", {**GOOD_RESULT, "result_url": "https://"}, "result_url"),
    ("data_url not a URI", {**GOOD_RESULT, "attachments": [attachment(data_url="report.pdf")]}, "data_url"),
    ("unknown top-level field", {**GOOD_RESULT, "grade": "A"}, "'grade'"),
]


@pytest.mark.parametrize(("rule", "body", "contains"), RESULT_VIOLATIONS, ids=[r for r, _, _ in RESULT_VIOLATIONS])
def test_result_violations(sandbox: SandboxHandle, rule: str, body: dict[str, Any], contains: str) -> None:
    integration = sandbox.new_integration()
    order_id = sandbox.place_order(integration)["id"]
    with api(sandbox, integration) as client:
        response = client.put(f"/assessment/orders/{order_id}/result", json=body)
    assert_error(response, 400, "PLATFORM.INPUT_INVALID", contains)
    assert sandbox.control.get(f"/_sandbox/orders/{order_id}").json()["status"] == "OPEN"


def test_status_changes_only_from_open_and_rejected_orders_never_change(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    sandbox.receiver.replies["pkg-reject"] = (422, {"message": "Not offered to you."})
    rejected = sandbox.place_order(integration, "pkg-reject")["id"]
    done = sandbox.place_order(integration)["id"]
    with api(sandbox, integration) as client:
        assert client.put(f"/assessment/orders/{done}/result", json=GOOD_RESULT).status_code == 200
        assert client.put(f"/assessment/orders/{done}/result", json=GOOD_RESULT).status_code == 200  # same status
        back_to_open = client.put(f"/assessment/orders/{done}/result", json={**GOOD_RESULT, "status": "OPEN"})
        on_rejected = client.put(f"/assessment/orders/{rejected}/result", json=GOOD_RESULT)
        unknown = client.put("/assessment/orders/nope/result", json=GOOD_RESULT)
    assert_error(back_to_open, 400, "PLATFORM.INPUT_INVALID", "only change while OPEN")
    assert_error(on_rejected, 400, "PLATFORM.INPUT_INVALID", "rejected")
    assert_error(unknown, 404, "PLATFORM.INPUT_INVALID")


@pytest.mark.parametrize(
    ("query", "contains"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "251"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"statuses": "OPEN,DONE"}, "DONE"),
        ({"created_after": "2026-07-01T00:00:00+02:00"}, "created_after"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_order_list_violations(sandbox: SandboxHandle, query: dict[str, str], contains: str) -> None:
    integration = sandbox.new_integration()
    with api(sandbox, integration) as client:
        assert_error(client.get("/assessment/orders", params=query), 400, "PLATFORM.INPUT_INVALID", contains)


def test_integration_header_and_key_are_enforced(sandbox: SandboxHandle) -> None:
    with api(sandbox, None) as client:
        assert_error(client.get("/assessment/packages"), 400, "PLATFORM.INPUT_INVALID", "X-Integration-Id")
    with api(sandbox, "sandbox:unknown") as client:
        assert_error(client.get("/assessment/packages"), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
    with httpx.Client(base_url=sandbox.api_url) as anonymous:
        assert_error(anonymous.get("/check-api-key"), 401, "PLATFORM.AUTHENTICATION_INVALID")


def test_inactive_and_invalid_integrations_refuse_assessment_calls(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    with api(sandbox, integration) as client:
        sandbox.control.post(f"/_sandbox/integrations/{integration}/state", json={"state": "INACTIVE"})
        assert_error(client.get("/assessment/packages"), 403, "INTEGRATION.INACTIVE")
        sandbox.control.post(f"/_sandbox/integrations/{integration}/state", json={"state": "INVALID"})
        assert_error(client.get("/assessment/packages"), 401, "INTEGRATION.AUTHENTICATION_INVALID")
    changes = sandbox.receiver.events("integration-state-changed")
    assert [c["data"]["state"] for c in changes] == ["INACTIVE", "INVALID"]
    assert changes[0]["data"]["integration_id"] == integration


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"packages": [{"id": "a", "type": "SKILLS_TEST", "name": "A", "description": ""}] * 2}, "unique"),
        ({"packages": [{"id": "a", "type": "CODING", "name": "A", "description": ""}]}, "type"),
        ({"packages": [{"id": "a", "type": "SKILLS_TEST", "name": "A"}]}, "description"),
        ({}, "packages"),
        ({"packages": [{"id": "a", "type": "SKILLS_TEST", "name": "A", "description": "", "price": 1}]}, "'price'"),
        ({"packages": [], "catalog": "x"}, "'catalog'"),
    ],
)
def test_package_violations(sandbox: SandboxHandle, body: dict[str, Any], contains: str) -> None:
    integration = sandbox.new_integration()
    with api(sandbox, integration) as client:
        assert_error(client.put("/assessment/packages", json=body), 400, "PLATFORM.INPUT_INVALID", contains)


def test_deprecated_open_orders_endpoint_lists_open_orders_without_status(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    open_id = sandbox.place_order(integration)["id"]
    done_id = sandbox.place_order(integration)["id"]
    with api(sandbox, integration) as client:
        client.put(f"/assessment/orders/{done_id}/result", json=GOOD_RESULT).raise_for_status()
        page = client.get("/assessment/orders/open").json()
    assert page["status"] == "success"
    assert [o["id"] for o in page["data"]["results"]] == [open_id]
    assert "status" not in page["data"]["results"][0]


def test_every_response_carries_ratelimit_headers(sandbox: SandboxHandle) -> None:
    with api(sandbox, None) as client:
        response = client.get("/check-api-key")
    assert response.headers["ratelimit-limit"] == "300"
    assert "ratelimit-reset" in response.headers


def test_package_strings_have_no_minimum_length(sandbox: SandboxHandle) -> None:
    """Kombo's published schema sets none, so an empty name or description is a valid package."""
    integration = sandbox.new_integration()
    body = {"packages": [{"id": "a", "type": "BEHAVIORAL", "name": "", "description": ""}]}
    with api(sandbox, integration) as client:
        assert client.put("/assessment/packages", json=body).status_code == 200
        listed = client.get("/assessment/packages").json()["data"]["packages"]
    assert [(p["id"], p["name"], p["description"]) for p in listed] == [("a", "", "")]


LINK = {"end_user_email": "it@acme.example", "end_user_organization_name": "Acme", "integration_category": "ASSESSMENT"}


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({**LINK, "end_user_email": "not-an-email"}, "end_user_email"),
        ({**LINK, "end_user_organization_name": ""}, "end_user_organization_name"),
        ({**LINK, "end_user_origin_id": ""}, "end_user_origin_id"),
        ({**LINK, "link_type": "QR_CODE"}, "link_type"),
        ({**LINK, "language": "nl"}, "language"),
        ({**LINK, "tenant": "t-1"}, "'tenant'"),
        ({k: v for k, v in LINK.items() if k != "integration_category"}, "ASSESSMENT"),  # Kombo's default: HRIS
    ],
)
def test_create_link_violations(sandbox: SandboxHandle, body: dict[str, Any], contains: str) -> None:
    with api(sandbox, None) as client:
        assert_error(client.post("/connect/create-link", json=body), 400, "PLATFORM.INPUT_INVALID", contains)


def test_unknown_token_and_relink_body_violations(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    with api(sandbox, None) as client:
        assert_error(client.get("/connect/integration-by-token/nope"), 404, "PLATFORM.INPUT_INVALID", "token")
        relink = client.post(f"/integrations/{integration}/relink", json={"link_type": "QR_CODE"})
        assert_error(relink, 400, "PLATFORM.INPUT_INVALID", "link_type")
        assert client.post(f"/integrations/{integration}/relink").status_code == 200  # no body: all optional
        deleted = client.request("DELETE", f"/integrations/{integration}", json={"force": True})
        assert_error(deleted, 400, "PLATFORM.INPUT_INVALID", "'force'")


def test_wrong_methods_and_paths_answer_in_kombos_envelope(sandbox: SandboxHandle) -> None:
    """Alone, even the router's own 404 and 405 (outside any Kombo path) use Kombo's envelope."""
    with api(sandbox, None) as client:
        assert_error(client.post("/check-api-key"), 405, "PLATFORM.INPUT_INVALID")
        assert_error(client.get("/assessment/orders/x/unknown"), 404, "PLATFORM.INPUT_INVALID")
        assert_error(client.get("/no/such/path"), 404, "PLATFORM.INPUT_INVALID", "no endpoint")


def test_pages_state_their_charset_once(sandbox: SandboxHandle) -> None:
    page = sandbox.control.get("/_sandbox/ui")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
