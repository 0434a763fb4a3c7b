"""Bounds on a result submission beyond its shape: what Kombo's contract states, and sane limits where it is
silent (``ASSESSGATE_RESULT_*`` settings).

Every rule of :mod:`core.result_rules` held for ``score > max_score``, ``-5``, ``1e308``, a 1 MB ``result_url``,
``"http://"``, 10,000 attributes and 1 MB of ``remote_fields``, so all of them were accepted and sent to
Kombo. Here each is a :class:`core.errors.FieldError` naming the field, answered 422 with the others.

From the contract: ``result_url`` is a URI (so an http(s) one needs a host); scores are finite doubles;
``remote_fields`` has Kombo's per-ATS shapes (``smartrecruiters.scoreLabel`` is a string ...). Our limits:
scores within ``[score_min, score_max]`` and a score at most its maximum; the URL, the number of attributes,
each attribute's text and the encoded ``remote_fields`` bounded in size.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeGuard

import msgspec
from msgspec import Meta

from core.errors import FieldError, PayloadInvalid
from core.file_names import content_type_problem
from core.kombo import RemoteFields, convert
from core.outbound import valid_url


class ResultLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Where Kombo's contract is silent; each field is the setting ``ASSESSGATE_RESULT_<NAME>``."""

    #: Longest ``result_url`` (browsers and ATSs commonly stop near 2,000 characters).
    max_url_length: Annotated[int, Meta(ge=64, le=65_536)] = 2048
    #: Lowest and highest score, maximum score and sub-result value.
    score_min: float = 0.0
    score_max: Annotated[float, Meta(gt=0)] = 1_000_000.0
    #: Most attributes in one result.
    max_attributes: Annotated[int, Meta(ge=1, le=10_000)] = 100
    #: Longest ``label``, ``value`` or ``id`` of an attribute.
    max_text_length: Annotated[int, Meta(ge=16, le=1_000_000)] = 4000
    #: Largest ``remote_fields``, as JSON.
    max_remote_fields_bytes: Annotated[int, Meta(ge=64, le=1_048_576)] = 16_384


def bound_problems(doc: dict[str, Any], limits: ResultLimits) -> list[FieldError]:
    """The bounds ``doc`` breaks; call after the shape checks (types that are wrong there are skipped here)."""
    return [
        *_url(doc.get("result_url"), limits),
        *_scores(doc, limits),
        *_attributes(doc, limits),
        *_remote(doc, limits),
        *_media_types(doc),
    ]


def _url(url: Any, limits: ResultLimits) -> list[FieldError]:
    if not isinstance(url, str):
        return []
    if len(url) > limits.max_url_length:
        return [FieldError(path="$.result_url", message=f"at most {limits.max_url_length} characters")]
    if not valid_url(url) or any(c.isspace() or not c.isprintable() for c in url):
        return [FieldError(path="$.result_url", message="an absolute http(s) URL with a host (Kombo wants a URI)")]
    return []


def _number_problem(value: Any, limits: ResultLimits) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None  # the shape checks name it
    # An integer may be too large for a float (10**400 from JSON): compare it as it is, never via isfinite.
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if not limits.score_min <= value <= limits.score_max:
        return f"must be between {limits.score_min:g} and {limits.score_max:g}"
    return None


def _scores(doc: dict[str, Any], limits: ResultLimits) -> list[FieldError]:
    errors = [
        FieldError(path=f"$.{key}", message=problem)
        for key in ("score", "max_score")
        if key in doc and (problem := _number_problem(doc[key], limits)) is not None
    ]
    score, top = doc.get("score"), doc.get("max_score")
    if not errors and _is_number(score) and _is_number(top) and score > top:
        errors.append(FieldError(path="$.score", message="must not exceed max_score"))
    return errors


def _attributes(doc: dict[str, Any], limits: ResultLimits) -> list[FieldError]:
    attributes = doc.get("attributes", [])
    if not isinstance(attributes, list):
        return []
    if len(attributes) > limits.max_attributes:
        return [FieldError(path="$.attributes", message=f"at most {limits.max_attributes} attributes")]
    errors: list[FieldError] = []
    for index, item in enumerate(attributes):
        if not isinstance(item, dict):
            continue
        at = f"$.attributes[{index}]"
        errors += [
            FieldError(path=f"{at}.{key}", message=f"at most {limits.max_text_length} characters")
            for key in ("id", "label", "value")
            if isinstance(item.get(key), str) and len(item[key]) > limits.max_text_length
        ]
        score = item.get("score")
        if item.get("type") == "SUB_RESULT" and isinstance(score, dict):
            errors += [
                FieldError(path=f"{at}.score.{key}", message=problem)
                for key in ("value", "max")
                if (problem := _number_problem(score.get(key), limits)) is not None
            ]
            value, top = score.get("value"), score.get("max")
            if _is_number(value) and _is_number(top) and _number_problem(value, limits) is None and value > top:
                errors.append(FieldError(path=f"{at}.score.value", message="must not exceed score.max"))
    return errors


def _remote(doc: dict[str, Any], limits: ResultLimits) -> list[FieldError]:
    remote = doc.get("remote_fields")
    if not isinstance(remote, dict):
        return []
    if len(msgspec.json.encode(remote)) > limits.max_remote_fields_bytes:
        return [FieldError(path="$.remote_fields", message=f"at most {limits.max_remote_fields_bytes} bytes as JSON")]
    try:
        convert(remote, RemoteFields, what="remote_fields")
    except PayloadInvalid as exc:
        path = exc.path if isinstance(exc.path, str) else "$"
        return [FieldError(path="$.remote_fields" + path.removeprefix("$"), message=str(exc))]
    return []


def _media_types(doc: dict[str, Any]) -> list[FieldError]:
    """Kombo's content-type pattern as Kombo (JavaScript) reads it: Python's ``\\w`` also takes ``ä``."""
    attachments = doc.get("attachments", [])
    if not isinstance(attachments, list):
        return []
    return [
        FieldError(path=f"$.attachments[{index}].content_type", message=problem)
        for index, item in enumerate(attachments)
        if isinstance(item, dict)
        and isinstance(item.get("content_type"), str)
        and (problem := content_type_problem(item["content_type"])) is not None
    ]


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
