"""The hosted candidate form: turning a submission into clean, minimal data, or into errors per field.

Only the fields the form declares are kept (data minimisation): anything else in the submission is dropped.
An ``address_history`` field arrives as numbered rows (``<name>-<i>-street`` ...) and becomes a list of
addresses; empty rows are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from core.adapters import FormField, FormSpec

ADDRESS_PARTS: Final = ("street", "city", "postal_code", "country", "from", "to")
ADDRESS_ROWS: Final = 5
MAX_LENGTH: Final = 500
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


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
        return _addresses(field, raw)
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
            return None, "Please enter a date as YYYY-MM-DD."
        if day > date.today():  # noqa: DTZ011 - a calendar date typed by a person
            return None, "This date is in the future."
        return day.isoformat(), None
    if field.kind == "select" and text not in field.options:
        return None, "Please choose one of the options."
    return text, None


def _addresses(field: FormField, raw: Mapping[str, str]) -> tuple[Any, str | None]:
    rows: list[dict[str, str]] = []
    for index in range(ADDRESS_ROWS):
        row = {part: raw.get(f"{field.name}-{index}-{part}", "").strip()[:MAX_LENGTH] for part in ADDRESS_PARTS}
        if not any(row.values()):
            continue
        missing = [part for part in ("street", "city", "country", "from") if not row[part]]
        if missing:
            return None, f"Address {index + 1}: please fill in {', '.join(p.replace('_', ' ') for p in missing)}."
        for part in ("from", "to"):
            if row[part] and not _MONTH.match(row[part]):
                return None, f"Address {index + 1}: please enter months as YYYY-MM."
        rows.append(row)
    if field.required and not rows:
        return None, "Please enter at least your current address."
    return rows, None
