"""Kombo's official Python SDK through whole flows, against the standalone sandbox and the sandbox mounted in
the gateway: catalogs, order lists with every filter, results and their status rules, the connect flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from kombo import Kombo, errors, models

from agtest.sandbox_support import SandboxHandle

PACKAGES: list[models.PutAssessmentPackagesRequestBodyPackageTypedDict] = [
    {"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java", "description": "Java test"},
    {"id": "pkg-bg", "type": "BACKGROUND_CHECK", "name": "Background", "description": "Checks"},
]
ATTRIBUTES: list[models.AttributeTextTypedDict | models.AttributeSubResultTypedDict] = [
    {"type": "TEXT", "label": "Recommendation", "value": "Proceed"},
    {"type": "SUB_RESULT", "id": "core", "label": "Core", "score": {"value": 41, "max": 50}, "status": "COMPLETED"},
]


def sdk(target: SandboxHandle, integration_id: str | None = None, api_key: str | None = None) -> Kombo:
    return Kombo(api_key=api_key or target.settings.api_key, integration_id=integration_id, server_url=target.api_url)


def deliveries(target: SandboxHandle) -> list[str]:
    return [d["event_type"] for d in target.control.get("/_sandbox/state").json()["deliveries"]]


def packages_replace_all_and_omitted_ones_are_marked_deleted(target: SandboxHandle) -> None:
    integration = target.new_integration()
    client = sdk(target, integration)
    assert client.assessment.set_packages(packages=PACKAGES).warnings == []
    listed = client.assessment.get_packages().data.packages
    assert {(p.id, p.type, p.name) for p in listed} == {
        ("pkg-java", "SKILLS_TEST", "Java"),
        ("pkg-bg", "BACKGROUND_CHECK", "Background"),
    }
    client.assessment.set_packages(packages=PACKAGES[:1])
    assert [p.id for p in client.assessment.get_packages().data.packages] == ["pkg-java"]
    client.assessment.set_packages(packages=[])
    assert client.assessment.get_packages().data.packages == []


def orders_list_with_every_filter_and_page_size(target: SandboxHandle) -> None:
    integration = target.new_integration()
    client = sdk(target, integration)
    placed = [target.place_order(integration, "pkg-java")["id"] for _ in range(7)]
    for page_size in (1, 3, 250):
        seen: list[str] = []
        page = client.assessment.get_assessment_orders(page_size=page_size)
        while page is not None:
            seen += [o.id for o in page.result.data.results]
            following = page.next()
            assert not isinstance(following, Awaitable)
            page = following
        assert seen == placed
    by_id = client.assessment.get_assessment_orders(ids=placed[2:4])
    assert by_id is not None
    assert [o.id for o in by_id.result.data.results] == placed[2:4]
    open_orders = client.assessment.get_assessment_orders(statuses=["OPEN"])
    assert open_orders is not None
    assert len(open_orders.result.data.results) == 7
    completed = client.assessment.get_assessment_orders(statuses=["COMPLETED"])
    assert completed is not None
    assert completed.result.data.results == []
    later = client.assessment.get_assessment_orders(created_after=datetime.now(UTC) + timedelta(days=1))
    assert later is not None
    assert later.result.data.results == []
    past = client.assessment.get_assessment_orders(created_after=datetime.now(UTC) - timedelta(days=1))
    assert past is not None
    assert len(past.result.data.results) == 7
    assert (past.result.data.results[0].candidate.email, past.result.data.results[0].status) == (
        "cand@example.org",
        "OPEN",
    )


def result_updates_follow_the_status_rules(target: SandboxHandle) -> None:
    integration = target.new_integration()
    client = sdk(target, integration)
    order_id = target.place_order(integration, "pkg-java")["id"]
    interim = client.assessment.update_order_result(
        assessment_order_id=order_id, status="OPEN", result_url="https://vendor.example/progress"
    )
    assert interim.warnings == []
    done = client.assessment.update_order_result(
        assessment_order_id=order_id,
        status="COMPLETED",
        result_url="https://vendor.example/report",
        completed_at=datetime.now(UTC),
        score=78.5,
        max_score=100,
        attributes=ATTRIBUTES,
        remote_fields={"smartrecruiters": {"score_label": "78.5 / 100"}},
    )
    assert isinstance(done.warnings, list)
    state = target.control.get(f"/_sandbox/orders/{order_id}").json()
    assert state["status"] == "COMPLETED"
    assert state["result"]["remote_fields"] == {"smartrecruiters": {"scoreLabel": "78.5 / 100"}}
    with pytest.raises(errors.KomboAtsError) as refused:
        client.assessment.update_order_result(
            assessment_order_id=order_id,
            status="CANCELLED",
            result_url="https://vendor.example/x",
            completed_at=datetime.now(UTC),
        )
    assert refused.value.data.error.code == "PLATFORM.INPUT_INVALID"
    assert "only change while OPEN" in refused.value.data.error.message


def connect_flow_and_integration_management(target: SandboxHandle) -> None:
    client = sdk(target)
    link = client.connect.create_connection_link(
        end_user_email="it@acme.example",
        end_user_organization_name="Acme",
        end_user_origin_id="tenant-1",
        integration_category="ASSESSMENT",
    ).data.link
    token = link.split("token=")[1]
    completed = target.control.post(f"/_sandbox/connect/{token}/complete").json()
    exchanged = client.connect.get_integration_by_token(token=completed["token"]).data
    assert exchanged.id == completed["integration"]["id"]
    assert exchanged.end_user_origin_id == "tenant-1"
    details = client.general.get_integration_details(integration_id=exchanged.id).data
    assert (details.status, details.end_user.origin_id) == ("ACTIVE", "tenant-1")
    assert "token=" in client.general.create_reconnection_link(integration_id=exchanged.id).data.link
    assert client.general.check_api_key().data.environment_id
    client.general.delete_integration(integration_id=exchanged.id, body={})
    assert {"integration-created", "integration-deleted"} <= set(deliveries(target))
    if target.settings.webhook_url:  # standalone: the recording receiver has the events themselves
        created = target.receiver.events("integration-created")
        deleted = target.receiver.events("integration-deleted")
        assert created[-1]["data"]["end_user"]["origin_id"] == "tenant-1"
        assert deleted[-1]["data"]["id"] == exchanged.id
    with pytest.raises(errors.KomboGeneralError) as gone:
        client.general.get_integration_details(integration_id=exchanged.id)
    assert gone.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"


def wrong_api_key_is_an_authentication_error(target: SandboxHandle) -> None:
    with pytest.raises(errors.KomboGeneralError) as caught:
        sdk(target, api_key="wrong").general.check_api_key()
    assert caught.value.data.error.code == "PLATFORM.AUTHENTICATION_INVALID"
    assert caught.value.raw_response.status_code == 401


def paths_kombo_does_not_have_answer_in_kombos_envelope(target: SandboxHandle) -> None:
    """Not the framework's 404 (problem+json inside the gateway): a Kombo error a caller can branch on."""
    integration = target.new_integration()
    headers = {"Authorization": f"Bearer {target.settings.api_key}", "X-Integration-Id": integration}
    with httpx.Client(base_url=target.api_url, headers=headers, timeout=30) as raw:
        missing = raw.get("/no/such/endpoint")
        ats = raw.post("/ats/candidates", json={})
        anonymous = raw.get("/hris/employees", headers={"Authorization": "Bearer wrong"})
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/json")
    assert missing.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    assert (ats.status_code, ats.json()["error"]["code"]) == (400, "INTEGRATION.MODEL_NOT_AVAILABLE")
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "PLATFORM.AUTHENTICATION_INVALID")


FLOWS: list[Callable[[SandboxHandle], None]] = [
    packages_replace_all_and_omitted_ones_are_marked_deleted,
    orders_list_with_every_filter_and_page_size,
    result_updates_follow_the_status_rules,
    connect_flow_and_integration_management,
    wrong_api_key_is_an_authentication_error,
    paths_kombo_does_not_have_answer_in_kombos_envelope,
]
IDS = [flow.__name__ for flow in FLOWS]


@pytest.mark.parametrize("flow", FLOWS, ids=IDS)
def test_standalone(sandbox: SandboxHandle, flow: Callable[[SandboxHandle], None]) -> None:
    flow(sandbox)


@pytest.mark.parametrize("flow", FLOWS, ids=IDS)
def test_mounted_in_the_gateway(mounted: SandboxHandle, flow: Callable[[SandboxHandle], None]) -> None:
    flow(mounted)
