"""Kombo's official Python SDK, pointed at the sandbox: every call succeeds and validates against the SDK's
own models, and every documented violation comes back in Kombo's error shape."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import pytest
from kombo import Kombo, errors, models

from agtest.sandbox_support import API_KEY, SandboxHandle

PACKAGES: list[models.PutAssessmentPackagesRequestBodyPackageTypedDict] = [
    {"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java", "description": "Java test"},
    {"id": "pkg-bg", "type": "BACKGROUND_CHECK", "name": "Background", "description": "Checks"},
]


ATTRIBUTES: list[models.AttributeTextTypedDict | models.AttributeSubResultTypedDict] = [
    {"type": "TEXT", "label": "Recommendation", "value": "Proceed"},
    {"type": "SUB_RESULT", "id": "core", "label": "Core", "score": {"value": 41, "max": 50}, "status": "COMPLETED"},
]


def sdk(sandbox: SandboxHandle, integration_id: str | None = None, api_key: str = API_KEY) -> Kombo:
    return Kombo(api_key=api_key, integration_id=integration_id, server_url=sandbox.api_url)


def test_packages_replace_all_and_mark_omitted_ones_deleted(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    client = sdk(sandbox, integration)
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


def test_orders_list_with_every_filter_and_page_size(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    client = sdk(sandbox, integration)
    placed = [sandbox.place_order(integration, "pkg-java")["id"] for _ in range(7)]
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
    assert client.assessment.get_assessment_orders(statuses=["COMPLETED"]).result.data.results == []  # type: ignore[union-attr]
    future = datetime.now(UTC) + timedelta(days=1)
    later = client.assessment.get_assessment_orders(created_after=future)
    assert later is not None
    assert later.result.data.results == []
    past = client.assessment.get_assessment_orders(created_after=datetime.now(UTC) - timedelta(days=1))
    assert past is not None
    assert len(past.result.data.results) == 7
    order = past.result.data.results[0]
    assert order.candidate.email == "cand@example.org"
    assert order.status == "OPEN"


def test_update_result_and_its_status_rules(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    client = sdk(sandbox, integration)
    order_id = sandbox.place_order(integration, "pkg-java")["id"]
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
    state = sandbox.control.get(f"/_sandbox/orders/{order_id}").json()
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


def test_connect_flow_and_integration_endpoints(sandbox: SandboxHandle) -> None:
    client = sdk(sandbox)
    link = client.connect.create_connection_link(
        end_user_email="it@acme.example",
        end_user_organization_name="Acme",
        end_user_origin_id="tenant-1",
        integration_category="ASSESSMENT",
    ).data.link
    token = link.split("token=")[1]
    completed = sandbox.control.post(f"/_sandbox/connect/{token}/complete").json()
    exchanged = client.connect.get_integration_by_token(token=completed["token"]).data
    assert exchanged.id == completed["integration"]["id"]
    assert exchanged.end_user_origin_id == "tenant-1"
    details = client.general.get_integration_details(integration_id=exchanged.id).data
    assert details.status == "ACTIVE"
    assert details.end_user.origin_id == "tenant-1"
    relink = client.general.create_reconnection_link(integration_id=exchanged.id).data.link
    assert "token=" in relink
    assert client.general.check_api_key().data.environment_id
    client.general.delete_integration(integration_id=exchanged.id, body={})
    created, deleted = sandbox.receiver.events("integration-created"), sandbox.receiver.events("integration-deleted")
    assert created[0]["data"]["end_user"]["origin_id"] == "tenant-1"
    assert deleted[0]["data"]["id"] == exchanged.id
    with pytest.raises(errors.KomboGeneralError) as gone:
        client.general.get_integration_details(integration_id=exchanged.id)
    assert gone.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"


def test_wrong_api_key_is_an_authentication_error(sandbox: SandboxHandle) -> None:
    with pytest.raises(errors.KomboGeneralError) as caught:
        sdk(sandbox, api_key="wrong").general.check_api_key()
    assert caught.value.data.error.code == "PLATFORM.AUTHENTICATION_INVALID"
    assert caught.value.raw_response.status_code == 401
