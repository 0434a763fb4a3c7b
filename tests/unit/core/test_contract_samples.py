"""Every sample payload of the Kombo contract (§7, copied into tests/fixtures/kombo) round-trips its type."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from agtest import FIXTURES
from core import kombo
from core.kombo import envelopes

SAMPLES = FIXTURES / "kombo"


def load(name: str) -> Any:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def raw(name: str) -> bytes:
    data: bytes = (SAMPLES / f"{name}.json").read_bytes()
    return data


ENVELOPED: list[tuple[str, Any]] = [
    ("put_packages_response", envelopes.Success[kombo.Empty]),
    ("result_response", envelopes.Success[kombo.Empty]),
    ("get_packages_response", envelopes.Success[kombo.PackageList]),
    ("get_orders_response", envelopes.Success[kombo.OrderPage]),
    ("create_link_response", envelopes.Success[kombo.Link]),
    ("integration_by_token_response", envelopes.Success[kombo.IntegrationByToken]),
    ("get_integration_response", envelopes.Success[kombo.Integration]),
    ("error_full", kombo.ErrorEnvelope),
    ("error_minimal", kombo.ErrorEnvelope),
]
BODIES: list[tuple[str, Any]] = [
    ("put_packages_request", kombo.PutPackagesRequest),
    ("result_interim_open", kombo.ResultBody),
    ("result_completed", kombo.ResultBody),
    ("result_cancelled", kombo.ResultBody),
    ("result_background_check", kombo.ResultBody),
    ("create_link_request", kombo.CreateLinkRequest),
]
WEBHOOKS: list[tuple[str, type]] = [
    ("webhook_assessment_order_received", kombo.AssessmentOrderReceived),
    ("webhook_inline_assessment_order_received", kombo.InlineAssessmentOrderReceived),
    ("webhook_integration_created", kombo.IntegrationCreated),
    ("webhook_integration_deleted", kombo.IntegrationDeleted),
    ("webhook_integration_state_changed", kombo.IntegrationStateChanged),
    ("webhook_connection_flow_failed", kombo.ConnectionFlowFailed),
]


def roundtrip(value: object) -> Any:
    return json.loads(msgspec.json.encode(value))


@pytest.mark.parametrize(("name", "type_"), ENVELOPED + BODIES, ids=[n for n, _ in ENVELOPED + BODIES])
def test_sample_round_trips(name: str, type_: Any) -> None:
    parsed = kombo.decode_json(raw(name), type_)
    assert roundtrip(parsed) == load(name)


@pytest.mark.parametrize(("name", "type_"), WEBHOOKS, ids=[n for n, _ in WEBHOOKS])
def test_webhook_sample_parses_to_its_type_and_round_trips(name: str, type_: type) -> None:
    event = kombo.parse_event(raw(name))
    assert type(event) is type_
    assert roundtrip(event) == load(name)


def test_order_webhook_exposes_routing_and_candidate() -> None:
    event = kombo.parse_event(raw("webhook_assessment_order_received"))
    assert isinstance(event, kombo.AssessmentOrderReceived)
    assert event.data.integration_id == "greenhouse:Fb3Gh6Jk9Mn2Pq5Rs8Tv4Wx7"
    assert event.data.candidate.email == "ines.marquardt@example.net"
    assert event.data.candidate.phone is None  # explicit null stays null ...
    assert event.data.status == kombo.OrderStatus.OPEN


def test_absent_and_null_are_kept_apart() -> None:
    body = load("webhook_assessment_order_received")
    del body["data"]["candidate"]["phone"]
    event = kombo.parse_event(json.dumps(body).encode())
    assert isinstance(event, kombo.AssessmentOrderReceived)
    assert event.data.candidate.phone is msgspec.UNSET  # ... and an absent key stays absent
    assert "phone" not in roundtrip(event)["data"]["candidate"]


def test_unknown_event_type_is_kept_not_rejected() -> None:
    body = b'{"id":"E1","type":"data-changed","data":{"integration_id":"x","changed_models":["a"]}}'
    event = kombo.parse_event(body)
    assert isinstance(event, kombo.UnknownEvent)
    assert event.type == "data-changed"
    assert json.loads(bytes(event.data)) == {"integration_id": "x", "changed_models": ["a"]}


def test_unknown_keys_and_enum_values_are_tolerated_inbound() -> None:
    body = load("webhook_assessment_order_received")
    body["data"]["remote_data"] = {"raw": True}  # the field older docs mention
    body["data"]["job"]["hiring_team"][0]["hiring_team_roles"] = ["COORDINATOR"]
    body["data"]["status"] = "ON_HOLD"
    event = kombo.parse_event(json.dumps(body).encode())
    assert isinstance(event, kombo.AssessmentOrderReceived)
    assert event.data.status == "ON_HOLD"
    assert event.data.job is not msgspec.UNSET
    assert event.data.job.hiring_team is not msgspec.UNSET
    assert event.data.job.hiring_team[0].hiring_team_roles == ("COORDINATOR",)


def test_unknown_error_codes_are_tolerated() -> None:
    parsed = kombo.decode_json(
        b'{"status":"error","error":{"code":"FUTURE.NEW_CODE","title":null,"message":"m","log_url":null}}',
        kombo.ErrorEnvelope,
    )
    assert parsed.error.code == "FUTURE.NEW_CODE"
    assert parsed.error.retryable is False


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("PLATFORM.RATE_LIMIT_EXCEEDED", True),
        ("REMOTE.RATE_LIMIT_EXCEEDED", True),
        ("REMOTE.SERVICE_UNAVAILABLE", True),
        ("PLATFORM.INPUT_INVALID", False),
        ("INTEGRATION.INACTIVE", False),
        (None, False),
    ],
)
def test_retryable_codes_follow_kombos_guidance(code: str | None, retryable: bool) -> None:
    assert kombo.ErrorDetail(message="m", code=code).retryable is retryable


def test_create_link_always_sends_the_assessment_category() -> None:
    request = kombo.CreateLinkRequest(end_user_email="a@example.org", end_user_organization_name="Org")
    assert roundtrip(request) == {
        "end_user_email": "a@example.org",
        "end_user_organization_name": "Org",
        "integration_category": "ASSESSMENT",
    }


def test_remote_fields_use_kombos_wire_names() -> None:
    body = kombo.decode_json(raw("result_background_check"), kombo.ResultBody)
    wire = roundtrip(body)
    status_ref = wire["remote_fields"]["workday"]["Assess_Candidate_Data"]["Candidate_Assessment_Data"]
    assert status_ref["Assess_Candidate_Test_Result_Data"]["Assessment_Test_Status_Reference"] == {
        "Assessment_Status_ID": "PASSED_BG"
    }
    completed = kombo.decode_json(raw("result_completed"), kombo.ResultBody)
    assert roundtrip(completed)["remote_fields"] == {"smartrecruiters": {"scoreLabel": "78.5 / 100"}}
