"""Request bodies as Kombo's published schema types them, for the sandbox to validate against.

The gateway's own types in ``core.kombo`` describe what *we send* and are stricter than Kombo in places
(a package name must not be blank there); the sandbox must answer as Kombo does, so it checks the
published schema here: required keys, enums, lengths and the ``email``/``uri`` formats. Unknown keys
are refused when ``SandboxSettings.reject_unknown_fields`` is on (Kombo's request schemas are open, see
docs/sandbox.md). Every failure becomes ``PLATFORM.INPUT_INVALID``.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Final, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from core.errors import PayloadInvalid
from core.kombo import ResultBody, decode_json
from core.kombo.vocabulary import PackageType
from sandbox.errors import input_invalid

T = TypeVar("T")

#: What the sandbox takes for JSON Schema's ``format: email``: one ``@``, no spaces, a dot in the domain.
EMAIL_PATTERN: Final = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
#: ``format: uri`` is an absolute URI: a scheme, then no whitespace; ``http``/``https`` also need a host.
URI_PATTERN: Final = r"(?i)^(?:https?://[^/?#\s]+\S*|(?!https?:)[a-z][a-z0-9+.-]*:\S+)$"

Language = Literal["en", "de", "fr", "it", "es"]
LinkType = Literal["EMBEDDED", "MAGIC_LINK"]
Category = Literal["HRIS", "ATS", "ASSESSMENT", "LMS"]
NonEmpty = Annotated[str, Meta(min_length=1)]


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def is_email(value: str, pattern: str = EMAIL_PATTERN) -> bool:
    return _compiled(pattern).match(value) is not None


def is_uri(value: str, pattern: str = URI_PATTERN) -> bool:
    return _compiled(pattern).match(value) is not None


class Package(Struct, frozen=True, kw_only=True):
    """One package; the published schema sets no minimum length on any of its strings."""

    id: str
    type: PackageType
    name: str
    description: str


class PutPackages(Struct, frozen=True, kw_only=True):
    packages: tuple[Package, ...]


class CreateLink(Struct, frozen=True, kw_only=True):
    """``POST /connect/create-link``; Kombo's default category is ``HRIS``."""

    end_user_email: str
    end_user_organization_name: NonEmpty
    end_user_origin_id: NonEmpty | UnsetType | None = UNSET
    remote_environment: str | UnsetType | None = UNSET
    integration_category: Category = "HRIS"
    integration_tool: str | UnsetType | None = UNSET
    language: Language | UnsetType | None = UNSET
    scope_config_id: str | UnsetType | None = UNSET
    enable_filtering: bool | UnsetType = UNSET
    enable_field_mapping: bool | UnsetType = UNSET
    enable_static_ips: bool | UnsetType = UNSET
    link_type: LinkType | UnsetType = UNSET


class Relink(Struct, frozen=True, kw_only=True):
    language: Language | UnsetType | None = UNSET
    scope_config_id: str | UnsetType | None = UNSET
    link_type: LinkType | UnsetType = UNSET


class SetupLink(Struct, frozen=True, kw_only=True):
    link_type: LinkType
    language: Language | UnsetType | None = UNSET


class SetEnabled(Struct, frozen=True, kw_only=True):
    value: bool


class ForceSync(Struct, frozen=True, kw_only=True):
    type: Literal["FULL", "DELTA"] = "FULL"


class Passthrough(Struct, frozen=True, kw_only=True):
    method: Literal["GET", "POST", "DELETE", "PUT", "PATCH"]
    path: str
    headers: dict[str, str] | UnsetType = UNSET
    params: dict[str, str] | UnsetType = UNSET
    data: Any = UNSET
    response_as_base64: bool | UnsetType = UNSET
    multipart_form_data: list[dict[str, Any]] | UnsetType = UNSET
    api_options: dict[str, str] | UnsetType = UNSET


class UpdateIntegrationField(Struct, frozen=True, kw_only=True):
    enable_passthrough: bool | None


class UpdateCustomField(Struct, frozen=True, kw_only=True):
    integration_field_id: str | None


class EmptyBody(Struct, frozen=True, kw_only=True):
    """``DELETE /integrations/{id}`` takes an empty object."""


def decode(raw: bytes, type_: type[T], *, reject_unknown: bool, empty_ok: bool = False) -> T:
    """Decode a request body into ``type_``; ``empty_ok`` treats no body at all as ``{}``."""
    if empty_ok and not raw.strip():
        raw = b"{}"
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise input_invalid("The request body is not valid JSON.") from None
    if reject_unknown:
        _refuse_unknown(doc, type_)
    try:
        return decode_json(raw, type_, what="request body")
    except PayloadInvalid as exc:
        raise input_invalid(exc.message) from None


def _refuse_unknown(doc: Any, type_: type[Any]) -> None:
    if not isinstance(doc, dict):
        return  # the typed decode names the real problem
    unknown = sorted(set(doc) - set(_fields(type_)))
    if unknown:
        raise input_invalid(f"request body: unknown field {unknown[0]!r} (at $.{unknown[0]})")
    if type_ is PutPackages and isinstance(doc.get("packages"), list):
        for index, item in enumerate(doc["packages"]):
            extra = sorted(set(item) - set(_fields(Package))) if isinstance(item, dict) else []
            if extra:
                raise input_invalid(f"request body: unknown field {extra[0]!r} (at $.packages[{index}].{extra[0]})")


def _fields(type_: type[Any]) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(type_, "__struct_encode_fields__", ())
    return fields


def check_create_link(body: CreateLink, email_pattern: str = EMAIL_PATTERN) -> None:
    if not is_email(body.end_user_email, email_pattern):
        raise input_invalid("request body: end_user_email must be an email address (at $.end_user_email)")


def check_result(body: ResultBody, uri_pattern: str = URI_PATTERN) -> None:
    """The ``uri`` formats msgspec cannot express: ``result_url`` and every attachment's ``data_url``."""
    if not is_uri(body.result_url, uri_pattern):
        raise input_invalid("request body: result_url must be an absolute URI (at $.result_url)")
    for index, item in enumerate(body.attachments):
        if isinstance(item.data_url, str) and not is_uri(item.data_url, uri_pattern):
            raise input_invalid(f"request body: data_url must be an absolute URI (at $.attachments[{index}].data_url)")
