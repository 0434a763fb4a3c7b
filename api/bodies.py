"""The shapes of the JSON bodies some routes take as plain JSON, for the OpenAPI document.

The results API decodes its body as plain JSON and checks it with ``core/result_rules.py``, so that one 422
names every broken field at once (a typed decode stops at the first). The document still has to say what the
body is: :class:`ResultSubmission` declares it (Kombo's result body, with ``upload_id`` attachments), and
:data:`RESULT_BODY` hands its schema to the route's ``Body(schema_extra=...)``. Adapter settings and callbacks
are the adapter's own shapes; their routes get a description and an example.
A test checks that the example given here passes the rules the route applies.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from core.kombo import ResultStatus
from core.kombo.result_body import MAX_ATTACHMENTS, Attribute, ContentType, RemoteFields, Timestamp

REF_TEMPLATE: Final = "#/components/schemas/{name}"

RESULT_EXAMPLE: Final[dict[str, Any]] = {
    "status": "COMPLETED",
    "result_url": "https://tests.vendor.example/reports/4711",
    "completed_at": "2026-11-30T10:15:00.000Z",
    "score": 87,
    "max_score": 100,
    "attributes": [
        {"type": "TEXT", "label": "Recommendation", "value": "Proceed"},
        {
            "type": "SUB_RESULT",
            "id": "algorithms",
            "label": "Algorithms",
            "score": {"value": 9, "max": 10},
            "status": "COMPLETED",
        },
    ],
    "attachments": [{"name": "Report.pdf", "data_url": "https://tests.vendor.example/reports/4711.pdf"}],
}


class SubmittedAttachment(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A file shown in the ATS: exactly one of ``data`` (base64, with ``content_type``), ``data_url`` (Kombo
    fetches it, without credentials) or ``upload_id`` (a file uploaded with ``POST .../uploads``)."""

    name: Annotated[str, Meta(min_length=1, max_length=255)]
    content_type: ContentType | UnsetType = UNSET
    data: str | UnsetType = UNSET
    data_url: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    upload_id: str | UnsetType = UNSET


class ResultSubmission(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Kombo's result body (``PUT /assessment/orders/{id}/result``), checked against every rule at once: see
    docs/results.md. ``completed_at`` is required once the status is final; ``score`` is at most ``max_score``;
    attachments may also name an upload."""

    # Not core.kombo.ResultBody, what we send Kombo: that one has no upload_id.

    status: ResultStatus
    result_url: Annotated[str, Meta(min_length=1)]
    completed_at: Timestamp | UnsetType = UNSET
    score: float | UnsetType = UNSET
    max_score: float | UnsetType = UNSET
    attributes: tuple[Attribute, ...] = ()
    attachments: Annotated[tuple[SubmittedAttachment, ...], Meta(max_length=MAX_ATTACHMENTS)] = ()
    remote_fields: RemoteFields | UnsetType = UNSET


def _inlined(node: Any, components: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by the schema it names (these types are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(components[node["$ref"].rsplit("/", 1)[1]], components)
        return {key: _inlined(value, components) for key, value in node.items() if key != "discriminator"}
    if isinstance(node, list):
        return [_inlined(item, components) for item in node]
    return node


def body_schema(body: type[Struct], example: dict[str, Any]) -> dict[str, Any]:
    """The ``schema_extra`` that turns a route's plain-JSON body schema into ``body``'s, whole: Litestar builds
    the document's components from the types it decodes, so the parts are written in place."""
    (top,), components = msgspec.json.schema_components([body], ref_template=REF_TEMPLATE)
    own = _inlined(top, components)
    return {
        "type": "object",
        "properties": own["properties"],
        "required": own.get("required", []),
        "additional_properties": False,
        "description": own.get("description"),
        "title": own.get("title"),
        "examples": [example],
    }


RESULT_BODY: Final = body_schema(ResultSubmission, RESULT_EXAMPLE)

#: An adapter's settings are its own config type's (docs/adapters.md): the document can only say so, with an example.
ADAPTER_SETTINGS_BODY: Final = {
    "description": "The adapter's own settings (docs/adapters.md), merged over plugins.toml's key by key; {} removes "
    "the tenant's overrides.",
    "examples": [{"branding": {"company": "Acme", "language": "de"}}],
}
#: A callback is read by the order's adapter: its shape is the adapter's (docs/adapters.md).
CALLBACK_BODY: Final = {
    "description": "Read by the order's adapter; background_check takes reports like this one (docs/adapters.md).",
    "examples": [
        {
            "type": "background_check.report",
            "status": "clear",
            "checks": [{"id": "criminal", "label": "Criminal record", "status": "clear"}],
            "report_url": "https://screening.example/cases/7",
            "completed_at": "2026-11-26T12:00:00.000Z",
        }
    ],
}
