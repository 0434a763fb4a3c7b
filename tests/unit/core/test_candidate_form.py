"""The hosted form's field model: input purposes (WCAG 1.3.5), months typed the usual ways, and address
problems that name the row and the parts to correct."""

from __future__ import annotations

import re

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.background_check import DEFAULT_FIELDS, BackgroundCheckConfig
from core import input_purposes
from core.adapters import FormField, FormSpec
from core.forms import ADDRESS_PARTS, address_autocomplete, address_fault, clean_submission, parse_month, with_names

ADDRESSES = FormField(name="a", label="Addresses", kind="address_history")
purposes = st.sampled_from(sorted(input_purposes.PURPOSES))


@given(
    purposes, st.sampled_from(["", "section-x ", "section-previous2 "]), st.sampled_from(["", "shipping ", "billing "])
)
def test_every_purpose_is_accepted_alone_and_in_a_section(purpose: str, section: str, group: str) -> None:
    assert input_purposes.is_valid(f"{section}{group}{purpose}")


@pytest.mark.parametrize(
    "value", ["off", "bday", "mobile tel", "work email", "section-a billing home tel", "country-name"]
)
def test_purposes_people_write(value: str) -> None:
    assert input_purposes.is_valid(value)


@pytest.mark.parametrize(
    "value", ["on", "birthday", "mobile bday", "tel mobile", "section- tel", "BDAY", " bday", "bday ", "bday email"]
)
def test_what_is_not_a_purpose(value: str) -> None:
    assert not input_purposes.is_valid(value)


@given(st.text(max_size=40))
def test_any_text_is_judged_without_raising(value: str) -> None:
    assert input_purposes.is_valid(value) in (True, False)


def test_the_built_in_fields_declare_their_purpose() -> None:
    assert {f.name: f.autocomplete for f in DEFAULT_FIELDS} == {
        "date_of_birth": "bday",
        "address_history": "",  # its parts declare theirs
        "consent": "",
    }
    assert [address_autocomplete(0, part) for part in ADDRESS_PARTS] == [
        *("address-line1", "postal-code", "address-level2", "country-name", "off", "off")
    ]
    assert address_autocomplete(3, ADDRESS_PARTS[0]) == "section-previous3 address-line1"
    assert all(input_purposes.is_valid(address_autocomplete(row, p)) for row in range(5) for p in ADDRESS_PARTS)


def test_a_tenant_field_with_a_wrong_purpose_is_refused_naming_it() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"names no input purpose.*fields\[1\]"):
        msgspec.convert(
            {"fields": [{"name": "a", "label": "A"}, {"name": "b", "label": "B", "autocomplete": "phone"}]},
            BackgroundCheckConfig,
        )
    with pytest.raises(ValueError, match="takes no autocomplete"):
        FormField(name="a", label="A", kind="address_history", autocomplete="street-address")
    assert FormField(name="t", label="Phone", kind="tel", autocomplete="mobile tel").autocomplete == "mobile tel"


@given(
    st.integers(1000, 9999),
    st.integers(1, 12),
    st.sampled_from(["{y}-{m:02d}", "{y}/{m}", "{y}.{m:02d}", "{y} {m}", "{m:02d}/{y}", "{m}-{y}", " {y}-{m} "]),
)
def test_a_month_typed_the_usual_ways_is_read(year: int, month: int, shape: str) -> None:
    assert parse_month(shape.format(y=year, m=month)) == f"{year}-{month:02d}"


@given(st.text(max_size=12))
def test_any_text_is_a_month_or_refused(text: str) -> None:
    month = parse_month(text)
    assert month is None or re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month, re.ASCII)


@pytest.mark.parametrize("text", ["2019-13", "2019-00", "March 2019", "19-03", "2019-3-1", ""])
def test_what_is_not_a_month(text: str) -> None:
    assert parse_month(text) is None


def test_address_faults_name_the_row_and_the_parts() -> None:
    assert address_fault(ADDRESSES, {}) == (
        0,
        ("street", "city", "country", "from"),
        "Current address: please fill in street and number, city or town, country and the month you moved in.",
    )
    current = {"a-0-street": "1 Main St", "a-0-city": "Leeds", "a-0-country": "UK", "a-0-from": "2020-01"}
    assert address_fault(ADDRESSES, current) is None
    fault = address_fault(
        ADDRESSES,
        {
            **current,
            "a-2-street": "3 Old Rd",
            "a-2-city": "York",
            "a-2-country": "UK",
            "a-2-from": "2010-01",
            "a-2-to": "2020-1-1",
        },
    )
    assert fault == (
        2,
        ("to",),
        "Previous address 2: please enter the month you moved out as YYYY-MM, for example 2019-03.",
    )
    only_postcode = address_fault(ADDRESSES, {**current, "a-1-postal_code": "YO1"})
    assert only_postcode is not None
    assert only_postcode[:2] == (
        1,
        ("street", "city", "country", "from"),
    )


def test_months_are_kept_in_one_format() -> None:
    raw = {"a-0-street": "1 Main St", "a-0-city": "Leeds", "a-0-country": "UK", "a-0-from": "3/2019"}
    data, errors = clean_submission(FormSpec(title="t", fields=(ADDRESSES,)), raw)
    assert errors == {}
    assert data["a"][0]["from"] == "2019-03"
    assert data["a"][0]["to"] == ""


def test_form_texts_name_the_tenant_and_the_vendor() -> None:
    spec = FormSpec(
        title="Check for {company}",
        intro="{company} asked {vendor}; {unknown} and {} stay as written.",
        fields=(FormField(name="ok", label="I agree with {company}.", kind="checkbox", help="By {vendor}."),),
    )
    named = with_names(spec, {"company": "Acme", "vendor": "Checkly"})
    assert named.title == "Check for Acme"
    assert named.intro == "Acme asked Checkly; {unknown} and {} stay as written."
    assert (named.fields[0].label, named.fields[0].help) == ("I agree with Acme.", "By Checkly.")
    assert named.fields[0].kind == "checkbox"
