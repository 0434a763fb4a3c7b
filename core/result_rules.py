"""Validating a result submission against every documented rule, naming each broken field at once.

The vendor's platform sends Kombo's result body (``PUT /assessment/orders/{id}/result``); an attachment may
instead name an ``upload_id`` (a file uploaded to the gateway, served to Kombo on a short-lived signed URL).
msgspec stops at the first error, which makes for slow fixing; this checks everything and reports it all.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Final

from core.errors import FieldError
from core.kombo.result_body import FINAL_RESULT_STATUSES, MAX_ATTACHMENTS, ResultBody
from core.kombo.vocabulary import CONTENT_TYPE_PATTERN, TIMESTAMP_PATTERN, ResultStatus
from core.outbound import valid_url
from core.result_bounds import ResultLimits, bound_problems

# Kombo's rules are stated once, in ``core/kombo/result_body.py`` (the strict body we send); these name them.
STATUSES: Final = tuple(ResultStatus)
TOP_LEVEL: Final = frozenset(ResultBody.__struct_fields__)
_TIMESTAMP: Final = re.compile(TIMESTAMP_PATTERN)
_CONTENT_TYPE: Final = re.compile(CONTENT_TYPE_PATTERN)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def validate_submission(doc: Any, limits: ResultLimits | None = None) -> list[FieldError]:
    """Every rule the body breaks; an empty list means Kombo will accept it. ``limits`` are the deployment's
    bounds where Kombo is silent (``core/result_bounds.py``; their defaults when not given)."""
    if not isinstance(doc, dict):
        return [FieldError(path="$", message="a JSON object is required")]
    shape = [*_top_level(doc), *_attributes(doc.get("attributes", [])), *_attachments(doc.get("attachments", []))]
    bounds = [e for e in bound_problems(doc, limits or ResultLimits()) if e.path not in {s.path for s in shape}]
    return [*shape, *bounds]


def _top_level(doc: dict[str, Any]) -> list[FieldError]:
    errors = [
        FieldError(path=f"$.{key}", message="not a field of Kombo's result body")
        for key in sorted(set(doc) - TOP_LEVEL)
    ]
    status = doc.get("status")
    if status not in STATUSES:
        errors.append(
            FieldError(path="$.status", message=f"required, one of {', '.join(STATUSES)} (REJECTED cannot be written)")
        )
    url = doc.get("result_url")
    if not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        errors.append(
            FieldError(path="$.result_url", message="required: an http(s) link to the result in your product")
        )
    completed_at = doc.get("completed_at")
    if completed_at is None:
        # a list or object is no status (and is unhashable)
        if isinstance(status, str) and status in FINAL_RESULT_STATUSES:
            errors.append(FieldError(path="$.completed_at", message=f"required when status is {status}"))
    elif not (isinstance(completed_at, str) and _TIMESTAMP.match(completed_at)):
        errors.append(
            FieldError(
                path="$.completed_at", message="must look like 2026-07-23T15:42:10.000Z (UTC with Z, not +00:00)"
            )
        )
    errors += [
        FieldError(path=f"$.{k}", message="must be a number")
        for k in ("score", "max_score")
        if k in doc and not _number(doc[k])
    ]
    if "remote_fields" in doc and not isinstance(doc["remote_fields"], dict):
        errors.append(FieldError(path="$.remote_fields", message="must be an object"))
    return errors


def _attributes(attributes: Any) -> list[FieldError]:
    if not isinstance(attributes, list):
        return [FieldError(path="$.attributes", message="must be a list")]
    errors: list[FieldError] = []
    for index, item in enumerate(attributes):
        at = f"$.attributes[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(path=at, message="must be an object"))
            continue
        kind = item.get("type")
        if kind not in {"TEXT", "SUB_RESULT"}:
            errors.append(FieldError(path=f"{at}.type", message="TEXT or SUB_RESULT"))
            continue
        texts = ("label", "value") if kind == "TEXT" else ("id", "label")
        errors += [
            FieldError(path=f"{at}.{k}", message="required text") for k in texts if not isinstance(item.get(k), str)
        ]
        if kind == "SUB_RESULT":
            raw_score = item.get("score")
            score: dict[str, Any] = raw_score if isinstance(raw_score, dict) else {}
            if not _number(score.get("value")):
                errors.append(FieldError(path=f"{at}.score.value", message="required number"))
            if not (_number(score.get("max")) and score["max"] >= 1):
                errors.append(FieldError(path=f"{at}.score.max", message="required number, at least 1"))
            if item.get("status") not in FINAL_RESULT_STATUSES:
                errors.append(FieldError(path=f"{at}.status", message="COMPLETED or CANCELLED"))
    return errors


def _attachments(attachments: Any) -> list[FieldError]:
    if not isinstance(attachments, list):
        return [FieldError(path="$.attachments", message="must be a list")]
    errors: list[FieldError] = []
    if len(attachments) > MAX_ATTACHMENTS:
        errors.append(FieldError(path="$.attachments", message=f"at most {MAX_ATTACHMENTS} attachments"))
    for index, item in enumerate(attachments):
        at = f"$.attachments[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(path=at, message="must be an object"))
            continue
        if not _text(item.get("name")):
            errors.append(
                FieldError(path=f"{at}.name", message="required: the file name shown in the ATS, with its extension")
            )
        if len([k for k in ("data", "data_url", "upload_id") if k in item]) != 1:
            errors.append(FieldError(path=at, message="give exactly one of data, data_url and upload_id"))
        content_type = item.get("content_type")
        if content_type is not None and not (isinstance(content_type, str) and _CONTENT_TYPE.match(content_type)):
            errors.append(
                FieldError(
                    path=f"{at}.content_type", message="type/subtype without parameters or '+' (e.g. application/pdf)"
                )
            )
        if "data" in item:
            if content_type is None:
                errors.append(FieldError(path=f"{at}.content_type", message="required with data"))
            if not _base64(item["data"]):
                errors.append(FieldError(path=f"{at}.data", message="must be base64"))
        if "data_url" in item and not (isinstance(item["data_url"], str) and valid_url(item["data_url"])):
            errors.append(
                FieldError(path=f"{at}.data_url", message="must be an http(s) URL Kombo can fetch without credentials")
            )
        if "upload_id" in item and not isinstance(item["upload_id"], str):
            errors.append(FieldError(path=f"{at}.upload_id", message="must be the id an upload returned"))
    return errors


def _base64(value: Any) -> bool:
    try:
        base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
