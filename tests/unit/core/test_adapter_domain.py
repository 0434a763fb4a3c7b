"""Properties of the pure parts behind the built-in adapters: candidate links, the hosted form's cleaning,
and the background-check status model's mapping to Kombo results."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agtest.strategies import timestamps, urls, words
from core import candidate_links
from core.adapters import FormField, FormSpec, result_document
from core.background_checks import CaseReport, CaseStatus, Check, CheckStatus, Document, to_result
from core.forms import clean_submission
from core.kombo import ResultBody
from core.result_rules import validate_submission

SECRET = "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="
purposes = st.sampled_from(["launch", "form"]) | st.text("abcdefgh_", min_size=1, max_size=12)


@given(st.uuids(), purposes, st.integers(0, 2**40), st.integers(0, 10_000))
def test_a_minted_link_verifies_until_it_expires(order: uuid.UUID, purpose: str, now: int, ttl: int) -> None:
    token = candidate_links.mint(SECRET, candidate_links.LinkClaims(order, purpose, now + ttl))
    claims = candidate_links.verify((SECRET,), token, now_s=now)
    assert claims == candidate_links.LinkClaims(order, purpose, now + ttl)
    assert candidate_links.verify((SECRET,), token, now_s=now + ttl + 1) is None
    assert candidate_links.verify(("another-secret",), token, now_s=now) is None


@given(st.uuids(), st.integers(0, 2**40), st.integers(0, 200), st.characters(codec="utf-8", exclude_categories=["Cs"]))
def test_any_change_to_a_link_breaks_it(order: uuid.UUID, now: int, position: int, char: str) -> None:
    token = candidate_links.mint(SECRET, candidate_links.LinkClaims(order, "launch", now + 60))
    index = position % len(token)
    changed = token[:index] + char + token[index + 1 :]
    if changed != token:
        assert candidate_links.verify((SECRET,), changed, now_s=now) is None


@given(st.text(max_size=300))
def test_garbage_tokens_are_refused_not_raised(token: str) -> None:
    assert candidate_links.verify((SECRET,), token, now_s=0) is None


FIELDS = (
    FormField(name="dob", label="Date of birth", kind="date"),
    FormField(name="email", label="Email", kind="email", required=False),
    FormField(name="level", label="Level", kind="select", options=("basic", "enhanced")),
    FormField(name="addresses", label="Addresses", kind="address_history"),
    FormField(name="consent", label="Consent", kind="checkbox"),
)
SPEC = FormSpec(title="Check", fields=FIELDS)
field_names = st.sampled_from(
    [
        *("dob", "email", "level", "consent", "other", "addresses-0-street", "addresses-0-city"),
        *("addresses-0-country", "addresses-0-from", "addresses-1-street", "addresses-4-to", "addresses-9-city"),
    ]
)


@given(st.dictionaries(field_names | st.text(max_size=20), st.text(max_size=40)))
def test_cleaning_keeps_only_declared_fields_and_names_every_problem(raw: dict[str, str]) -> None:
    data, errors = clean_submission(SPEC, raw)
    declared = {f.name for f in FIELDS}
    assert set(data) <= declared
    assert set(errors) <= declared
    assert not set(data) & set(errors)
    for field in FIELDS:
        if field.required and field.name not in data:
            assert field.name in errors


def test_a_complete_submission_is_clean() -> None:
    raw = {
        "dob": "1990-04-01",
        "level": "enhanced",
        "consent": "yes",
        "addresses-0-street": "1 Main St",
        "addresses-0-city": "Leeds",
        "addresses-0-country": "GB",
        "addresses-0-from": "2020-01",
        "password": "not a declared field",
    }
    data, errors = clean_submission(SPEC, raw)
    assert errors == {}
    assert data == {
        "dob": "1990-04-01",
        "level": "enhanced",
        "consent": True,
        "addresses": [
            {"street": "1 Main St", "city": "Leeds", "postal_code": "", "country": "GB", "from": "2020-01", "to": ""}
        ],
    }


def test_a_future_birth_date_and_a_bad_month_are_refused() -> None:
    _, errors = clean_submission(SPEC, {"dob": "2999-01-01", "addresses-0-street": "x", "addresses-0-from": "2020-13"})
    assert errors["dob"] == "This date is in the future."
    assert errors["addresses"] == "Current address: please fill in city or town and country."


checks = st.builds(Check, id=words, label=words, status=st.sampled_from(CheckStatus), note=st.text(max_size=30))
reports = st.builds(
    CaseReport,
    status=st.sampled_from(CaseStatus),
    checks=st.lists(checks, max_size=6).map(tuple),
    report_url=st.none() | urls,
    documents=st.lists(st.builds(Document, name=words, url=urls), max_size=5).map(tuple),
    completed_at=st.none() | timestamps,
    reason=st.text(max_size=40),
).filter(lambda report: valid(report) is not None)


def valid(report: CaseReport) -> CaseReport | None:
    """The report as the adapter receives it: checked against its struct's rules (constructors do not check)."""
    try:
        return msgspec.convert(msgspec.to_builtins(report), CaseReport)
    except msgspec.ValidationError:
        return None


def test_a_report_that_would_break_the_result_rules_is_refused_where_it_arrives() -> None:
    bad = {"status": "clear", "documents": [{"name": " ", "url": "https://s.example/r.pdf"}]}
    with pytest.raises(msgspec.ValidationError, match=r"documents\[0\]\.name"):
        msgspec.convert(bad, CaseReport)
    with pytest.raises(msgspec.ValidationError, match=r"checks\[0\]\.id"):
        msgspec.convert({"status": "clear", "checks": [{"id": "", "label": "x", "status": "clear"}]}, CaseReport)


@given(reports, timestamps)
def test_every_case_report_maps_to_a_valid_kombo_result(report: CaseReport, now: str) -> None:
    typed = to_result(report, result_url="https://gateway.example/orders/1", now=now)
    body = result_document(typed)
    assert validate_submission(body) == []
    assert msgspec.convert(body, ResultBody) == typed  # the strict body's own constraints hold too
    expected = {"clear": "COMPLETED", "consider": "COMPLETED", "cancelled": "CANCELLED"}.get(report.status, "OPEN")
    assert body["status"] == expected
    performed = [c for c in report.checks if c.status is not CheckStatus.PENDING]
    assert len([a for a in body["attributes"] if a["type"] == "SUB_RESULT"]) == len(performed)
