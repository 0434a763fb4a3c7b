"""Properties of the contract types: hostile input raises only our error; what we send obeys every rule."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from datetime import datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agtest import FIXTURES
from agtest.strategies import aware_datetimes, json_values, result_body
from core import kombo
from core.errors import PayloadInvalid
from core.kombo.vocabulary import CONTENT_TYPE_PATTERN, TIMESTAMP_PATTERN, format_timestamp, is_kombo_timestamp

SAMPLES = sorted((FIXTURES / "kombo").glob("webhook_*.json"))
RESULT_SAMPLES = sorted((FIXTURES / "kombo").glob("result_*.json"))
RESULT_SAMPLES = [p for p in RESULT_SAMPLES if p.stem != "result_response"]


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths_of(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any]) -> bytes:
    doc = copy.deepcopy(draw(st.sampled_from(documents)))
    path = draw(st.sampled_from(paths_of(doc)[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    action = draw(st.sampled_from(["delete", "replace", "duplicate"]))
    if action == "delete":
        del parent[path[-1]]
    elif action == "replace":
        parent[path[-1]] = draw(json_values)
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=10))] = parent[path[-1]]
    encoded = json.dumps(doc).encode()
    cut = draw(st.integers(0, len(encoded)) | st.just(len(encoded)))
    if draw(st.booleans()):
        encoded = encoded[:cut]
    return encoded


WEBHOOK_DOCS = [json.loads(p.read_text()) for p in SAMPLES]
RESULT_DOCS = [json.loads(p.read_text()) for p in RESULT_SAMPLES]


@given(body=mutated(WEBHOOK_DOCS) | st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_webhook_body_parses_or_raises_payload_invalid(body: bytes) -> None:
    try:
        event = kombo.parse_event(body)
    except PayloadInvalid as exc:
        assert exc.path is None or exc.path.startswith("$")
        return
    assert isinstance(event, kombo.AssessmentOrderReceived | kombo.UnknownEvent) or event.id


def test_deeply_nested_bodies_raise_payload_invalid() -> None:
    body = b'{"id":"a","type":"assessment:order-received","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(PayloadInvalid):
        kombo.parse_event(body)


@given(body=mutated(RESULT_DOCS))
def test_any_result_body_decodes_or_raises_payload_invalid(body: bytes) -> None:
    with contextlib.suppress(PayloadInvalid):
        kombo.decode_json(body, kombo.ResultBody)


def assert_obeys_every_rule(wire: dict[str, Any]) -> None:
    """The documented constraints, checked independently of the Struct definitions."""
    assert wire["status"] in {"OPEN", "COMPLETED", "CANCELLED"}
    assert isinstance(wire["result_url"], str)
    assert wire["result_url"]
    if "completed_at" in wire:
        assert re.match(TIMESTAMP_PATTERN, wire["completed_at"])
    assert len(wire.get("attachments", [])) <= 5
    for item in wire.get("attachments", []):
        assert ("data" in item) != ("data_url" in item)
        if "data" in item:
            assert "content_type" in item
        if "content_type" in item:
            assert re.match(CONTENT_TYPE_PATTERN, item["content_type"])
    for attribute in wire.get("attributes", []):
        assert attribute["type"] in {"TEXT", "SUB_RESULT"}
        if attribute["type"] == "SUB_RESULT":
            assert attribute["score"]["max"] >= 1
            assert attribute["status"] in {"COMPLETED", "CANCELLED"}
        else:
            assert set(attribute) == {"type", "label", "value"}


@given(doc=result_body())
def test_encoded_results_obey_every_documented_rule(doc: dict[str, Any]) -> None:
    body = kombo.convert(doc, kombo.ResultBody)
    wire = json.loads(msgspec.json.encode(body))
    assert_obeys_every_rule(wire)
    assert kombo.decode_json(msgspec.json.encode(body), kombo.ResultBody) == body


BROKEN_RULES: list[tuple[str, Any]] = [
    ("status REJECTED is not writable", lambda d: d.update(status="REJECTED")),
    ("status is required", lambda d: d.pop("status")),
    ("result_url is required", lambda d: d.pop("result_url")),
    ("result_url must not be empty", lambda d: d.update(result_url="")),
    ("completed_at with an offset", lambda d: d.update(completed_at="2026-07-23T15:42:10+00:00")),
    ("completed_at not a timestamp", lambda d: d.update(completed_at="yesterday")),
    ("six attachments", lambda d: d.update(attachments=[{"name": "a.pdf", "data_url": "https://x.example/a"}] * 6)),
    (
        "attachment with both data and data_url",
        lambda d: d.update(
            attachments=[
                {"name": "a.pdf", "content_type": "application/pdf", "data": "AA==", "data_url": "https://x/a"}
            ]
        ),
    ),
    ("attachment with neither data nor data_url", lambda d: d.update(attachments=[{"name": "a.pdf"}])),
    ("data without content_type", lambda d: d.update(attachments=[{"name": "a.pdf", "data": "AA=="}])),
    (
        "content_type with parameters",
        lambda d: d.update(
            attachments=[{"name": "a", "content_type": "application/pdf; charset=binary", "data_url": "https://x/a"}]
        ),
    ),
    (
        "content_type with a plus",
        lambda d: d.update(attachments=[{"name": "a", "content_type": "image/svg+xml", "data_url": "https://x/a"}]),
    ),
    (
        "SUB_RESULT max below 1",
        lambda d: d.update(
            attributes=[
                {
                    "type": "SUB_RESULT",
                    "id": "a",
                    "label": "A",
                    "score": {"value": 0, "max": 0.5},
                    "status": "COMPLETED",
                }
            ]
        ),
    ),
    (
        "SUB_RESULT status OPEN",
        lambda d: d.update(
            attributes=[
                {"type": "SUB_RESULT", "id": "a", "label": "A", "score": {"value": 0, "max": 1}, "status": "OPEN"}
            ]
        ),
    ),
    ("TEXT attribute without value", lambda d: d.update(attributes=[{"type": "TEXT", "label": "A"}])),
    ("unknown attribute type", lambda d: d.update(attributes=[{"type": "CHART", "label": "A"}])),
]


@pytest.mark.parametrize(("rule", "breaker"), BROKEN_RULES, ids=[rule for rule, _ in BROKEN_RULES])
def test_each_documented_rule_is_enforced(rule: str, breaker: Any) -> None:
    doc = json.loads((FIXTURES / "kombo" / "result_completed.json").read_text())
    kombo.convert(doc, kombo.ResultBody)  # valid before
    breaker(doc)
    with pytest.raises(PayloadInvalid):
        kombo.convert(doc, kombo.ResultBody)


@given(moment=aware_datetimes)
def test_format_timestamp_matches_kombos_pattern_and_keeps_the_instant(moment: datetime) -> None:
    text = format_timestamp(moment)
    assert is_kombo_timestamp(text)
    assert text.endswith("Z")
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert abs((parsed - moment).total_seconds()) < 0.001


def test_format_timestamp_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_packages_are_strict_outbound() -> None:
    ok = {"packages": [{"id": "p1", "type": "SKILLS_TEST", "name": "Java", "description": ""}]}
    kombo.convert(ok, kombo.PutPackagesRequest)
    for bad in (
        {"packages": [{"id": "p1", "type": "CODING", "name": "Java", "description": ""}]},
        {"packages": [{"id": "p1", "type": "SKILLS_TEST", "name": "  ", "description": ""}]},
        {"packages": [{"id": "", "type": "SKILLS_TEST", "name": "Java", "description": ""}]},
        {"packages": [{"id": "p1", "type": "SKILLS_TEST", "name": "Java"}]},
        {"packages": [{"id": "p1", "type": "SKILLS_TEST", "name": "Java", "description": "", "extra": 1}]},
    ):
        with pytest.raises(PayloadInvalid):
            kombo.convert(bad, kombo.PutPackagesRequest)
