"""Input purposes (WCAG 2.1 success criterion 1.3.5): what a form control asks for, as an HTML ``autocomplete`` value.

A control that asks the candidate about themselves names its purpose (``bday``, ``email``, ``postal-code`` ...)
so that browsers can fill it in and assistive technology can show what it is for. The accepted values are the
53 purposes of WCAG 2.1 section 7 (the HTML autofill field names), optionally preceded by a ``section-<name>``
(several groups of the same purposes, like previous addresses), ``shipping`` or ``billing``, and for contact
fields ``home``, ``work``, ``mobile``, ``fax`` or ``pager``; or ``off`` for a control whose answer must not be
filled in from the browser's memory.
"""

from __future__ import annotations

import re
from typing import Final

CONTACT_PURPOSES: Final = frozenset(
    {
        *("tel", "tel-country-code", "tel-national", "tel-area-code", "tel-local", "tel-local-prefix"),
        *("tel-local-suffix", "tel-extension", "email", "impp"),
    }
)
PURPOSES: Final = CONTACT_PURPOSES | frozenset(
    {
        *("name", "honorific-prefix", "given-name", "additional-name", "family-name", "honorific-suffix"),
        *("nickname", "organization-title", "username", "new-password", "current-password", "organization"),
        *("street-address", "address-line1", "address-line2", "address-line3", "address-level4"),
        *("address-level3", "address-level2", "address-level1", "country", "country-name", "postal-code"),
        *("cc-name", "cc-given-name", "cc-additional-name", "cc-family-name", "cc-number", "cc-exp"),
        *("cc-exp-month", "cc-exp-year", "cc-csc", "cc-type", "transaction-currency", "transaction-amount"),
        *("language", "bday", "bday-day", "bday-month", "bday-year", "sex", "url", "photo"),
    }
)
CONTACT_KINDS: Final = frozenset({"home", "work", "mobile", "fax", "pager"})
_SECTION: Final = re.compile(r"^section-[a-z0-9_-]+$")


def is_valid(value: str) -> bool:
    """Whether ``value`` is an ``autocomplete`` value naming one input purpose (or ``off``)."""
    if value == "off":
        return True
    tokens = value.split(" ")
    if not tokens or tokens[-1] not in PURPOSES:
        return False
    purpose, modifiers = tokens[-1], tokens[:-1]
    if modifiers and _SECTION.match(modifiers[0]):
        modifiers = modifiers[1:]
    if modifiers and modifiers[0] in ("shipping", "billing"):
        modifiers = modifiers[1:]
    if modifiers and modifiers[0] in CONTACT_KINDS and purpose in CONTACT_PURPOSES:
        modifiers = modifiers[1:]
    return not modifiers
