"""The hosted candidate form: turning a submission into clean, minimal data, or into errors per field.

Only the fields the form declares are kept (data minimisation): anything else in the submission is dropped.
An ``address_history`` field arrives as numbered rows (``<name>-<i>-street`` ...) and becomes a list of
addresses; empty rows are ignored. Row 0 is the current address. Its parts, their labels and their input
purposes (WCAG 1.3.5) are declared here, once, for the page and for the checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final, NamedTuple

import msgspec

from core.adapters import FormField, FormSpec


class AddressPart(NamedTuple):
    key: str
    label: str
    #: How an error message names the part.
    short: str
    #: The part's purpose in the current address (the previous addresses prefix a ``section-``).
    autocomplete: str
    required: bool


class AddressFault(NamedTuple):
    """What is wrong with an address history: the row, the parts to correct, and the message."""

    row: int
    parts: tuple[str, ...]
    message: str


ADDRESS_PARTS: Final = (
    AddressPart("street", "Street and number", "street and number", "address-line1", required=True),
    AddressPart("postal_code", "Postal code (optional)", "postal code", "postal-code", required=False),
    AddressPart("city", "City or town", "city or town", "address-level2", required=True),
    AddressPart("country", "Country", "country", "country-name", required=True),
    # Typed text, not <input type=month>: Chromium draws a month-name picker that ignores a typed "2019-03",
    # and other browsers draw a plain box; one format, stated in the label, works everywhere.
    AddressPart("from", "Lived here from (YYYY-MM, for example 2019-03)", "the month you moved in", "off", True),
    AddressPart("to", "Until (YYYY-MM; leave empty for the current address)", "the month you moved out", "off", False),
)
ADDRESS_ROWS: Final = 5
MAX_LENGTH: Final = 500
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# What people type for a month: 2019-03, 2019/3, 2019.03, 2019 03, or the other way round, 03/2019.
_YEAR_MONTH: Final = re.compile(r"^(\d{4})\s*[-/.\s]\s*(\d{1,2})$", re.ASCII)
_MONTH_YEAR: Final = re.compile(r"^(\d{1,2})\s*[-/.\s]\s*(\d{4})$", re.ASCII)


def row_name(row: int) -> str:
    return "Current address" if row == 0 else f"Previous address {row}"


def address_autocomplete(row: int, part: AddressPart) -> str:
    """The current address fills from the browser's address; each previous one is a section of its own."""
    if part.autocomplete == "off" or row == 0:
        return part.autocomplete
    return f"section-previous{row} {part.autocomplete}"


def parse_month(text: str) -> str | None:
    """``YYYY-MM`` for a month typed in any of the usual ways, else None."""
    text = text.strip()
    if match := _YEAR_MONTH.match(text):
        year, month = match.groups()
    elif match := _MONTH_YEAR.match(text):
        month, year = match.groups()
    else:
        return None
    return f"{year}-{int(month):02d}" if 1 <= int(month) <= 12 else None  # noqa: PLR2004 - months of a year


def clean_submission(spec: FormSpec, raw: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(data, errors): ``errors`` maps a field name to what is wrong with it; ``data`` holds declared fields only."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in spec.fields:
        value, error = _clean(field, raw)
        if error:
            errors[field.name] = error
        elif value not in (None, "", []):
            data[field.name] = value
    return data, errors


def _clean(field: FormField, raw: Mapping[str, str]) -> tuple[Any, str | None]:  # noqa: PLR0911 - one branch per kind
    if field.kind == "address_history":
        fault = address_fault(field, raw)
        return (None, fault.message) if fault else (_addresses(field, raw), None)
    text = raw.get(field.name, "").strip()
    if field.kind == "checkbox":
        if field.required and not text:
            return None, "Please tick this box to continue."
        return bool(text), None
    if not text:
        return None, ("This field is required." if field.required else None)
    if len(text) > MAX_LENGTH:
        return None, f"Please keep this under {MAX_LENGTH} characters."
    if field.kind == "email" and not _EMAIL.match(text):
        return None, "Please enter an email address like name@example.org."
    if field.kind == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None, "Please enter a date as YYYY-MM-DD, for example 1990-04-01."
        if day > date.today():  # noqa: DTZ011 - a calendar date typed by a person
            return None, "This date is in the future."
        return day.isoformat(), None
    if field.kind == "select" and text not in field.options:
        return None, "Please choose one of the options."
    return text, None


def _row(field: FormField, raw: Mapping[str, str], index: int) -> dict[str, str]:
    return {part.key: raw.get(f"{field.name}-{index}-{part.key}", "").strip()[:MAX_LENGTH] for part in ADDRESS_PARTS}


def address_fault(field: FormField, raw: Mapping[str, str]) -> AddressFault | None:
    """The first problem of an ``address_history`` submission, naming the row and the parts to correct."""
    filled = 0
    for index in range(ADDRESS_ROWS):
        row = _row(field, raw, index)
        if not any(row.values()):
            continue
        filled += 1
        missing = tuple(part for part in ADDRESS_PARTS if part.required and not row[part.key])
        if missing:
            names = _listed([part.short for part in missing])
            return AddressFault(index, tuple(p.key for p in missing), f"{row_name(index)}: please fill in {names}.")
        for part in ADDRESS_PARTS:
            if part.key in ("from", "to") and row[part.key] and parse_month(row[part.key]) is None:
                message = f"{row_name(index)}: please enter {part.short} as YYYY-MM, for example 2019-03."
                return AddressFault(index, (part.key,), message)
    if field.required and not filled:
        missing = tuple(part for part in ADDRESS_PARTS if part.required)
        names = _listed([part.short for part in missing])
        return AddressFault(0, tuple(p.key for p in missing), f"{row_name(0)}: please fill in {names}.")
    return None


def _addresses(field: FormField, raw: Mapping[str, str]) -> list[dict[str, str]]:
    rows = []
    for index in range(ADDRESS_ROWS):
        row = _row(field, raw, index)
        if any(row.values()):
            rows.append(
                {key: (parse_month(value) or "") if key in ("from", "to") else value for key, value in row.items()}
            )
    return rows


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


#: The names a hosted form's texts may mention, written ``{company}`` (the tenant, who asks) and ``{vendor}`` (who
#: runs the check); anything else in braces is left as written.
NAME_PLACEHOLDERS: Final = ("company", "vendor")


def with_names(spec: FormSpec, names: Mapping[str, str]) -> FormSpec:
    """``spec`` with ``{company}`` and ``{vendor}`` in its title, intro, labels and hints replaced by ``names``."""

    def named(text: str) -> str:
        for placeholder in NAME_PLACEHOLDERS:
            text = text.replace("{" + placeholder + "}", names.get(placeholder, ""))
        return text

    fields = tuple(msgspec.structs.replace(f, label=named(f.label), help=named(f.help)) for f in spec.fields)
    return msgspec.structs.replace(spec, title=named(spec.title), intro=named(spec.intro), fields=fields)
