"""Kombo's enumerations, patterns and timestamp format.

Inbound documents type these fields as plain ``str`` so that a value Kombo adds tomorrow is kept,
not rejected; compare them against the members below (a ``StrEnum`` equals its string value).
Outbound documents use the enums themselves, so we never send a value Kombo does not know.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final


class PackageType(StrEnum):
    BEHAVIORAL = "BEHAVIORAL"
    VIDEO_INTERVIEW = "VIDEO_INTERVIEW"
    SKILLS_TEST = "SKILLS_TEST"
    BACKGROUND_CHECK = "BACKGROUND_CHECK"
    REFERENCE_CHECK = "REFERENCE_CHECK"


class OrderStatus(StrEnum):
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class ResultStatus(StrEnum):
    """The statuses a result write-back may set (``REJECTED`` is reachable only through a 422)."""

    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class SubResultStatus(StrEnum):
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class HiringTeamRole(StrEnum):
    RECRUITER = "RECRUITER"
    HIRING_MANAGER = "HIRING_MANAGER"


class IntegrationCategory(StrEnum):
    HRIS = "HRIS"
    ATS = "ATS"
    ASSESSMENT = "ASSESSMENT"
    LMS = "LMS"


class IntegrationState(StrEnum):
    ACTIVE = "ACTIVE"
    INVALID = "INVALID"
    INACTIVE = "INACTIVE"


class SetupStatus(StrEnum):
    INCOMPLETE = "INCOMPLETE"
    FINAL_SYNC_PENDING = "FINAL_SYNC_PENDING"
    COMPLETED = "COMPLETED"


class QaStatus(StrEnum):
    PENDING = "PENDING"
    FAILED = "FAILED"
    PASSED = "PASSED"


class LinkType(StrEnum):
    EMBEDDED = "EMBEDDED"
    MAGIC_LINK = "MAGIC_LINK"


class Language(StrEnum):
    EN = "en"
    DE = "de"
    FR = "fr"
    IT = "it"
    ES = "es"


class EventType(StrEnum):
    ASSESSMENT_ORDER_RECEIVED = "assessment:order-received"
    INLINE_ASSESSMENT_ORDER_RECEIVED = "inline-assessment:order-received"
    INTEGRATION_CREATED = "integration-created"
    INTEGRATION_DELETED = "integration-deleted"
    INTEGRATION_STATE_CHANGED = "integration-state-changed"
    CONNECTION_FLOW_FAILED = "connection-flow-failed"


class ErrorCode(StrEnum):
    """Kombo's documented error codes; unknown future codes arrive as plain strings."""

    PLATFORM_RATE_LIMIT_EXCEEDED = "PLATFORM.RATE_LIMIT_EXCEEDED"
    PLATFORM_CONCURRENCY_LIMIT_EXCEEDED = "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
    PLATFORM_INTEGRATION_NOT_FOUND = "PLATFORM.INTEGRATION_NOT_FOUND"
    PLATFORM_INPUT_INVALID = "PLATFORM.INPUT_INVALID"
    PLATFORM_UNKNOWN_ERROR = "PLATFORM.UNKNOWN_ERROR"
    PLATFORM_IP_NOT_WHITELISTED = "PLATFORM.IP_NOT_WHITELISTED"
    PLATFORM_AUTHENTICATION_INVALID = "PLATFORM.AUTHENTICATION_INVALID"
    PLATFORM_TASK_TIMED_OUT = "PLATFORM.TASK_TIMED_OUT"
    INTEGRATION_PERMISSION_MISSING = "INTEGRATION.PERMISSION_MISSING"
    INTEGRATION_AUTHENTICATION_INVALID = "INTEGRATION.AUTHENTICATION_INVALID"
    INTEGRATION_QA_FAILED = "INTEGRATION.QA_FAILED"
    INTEGRATION_SETUP_SYNC_PENDING = "INTEGRATION.SETUP_SYNC_PENDING"
    INTEGRATION_SETUP_INCOMPLETE = "INTEGRATION.SETUP_INCOMPLETE"
    INTEGRATION_INACTIVE = "INTEGRATION.INACTIVE"
    INTEGRATION_MODEL_NOT_AVAILABLE = "INTEGRATION.MODEL_NOT_AVAILABLE"
    INTEGRATION_MODEL_DISABLED = "INTEGRATION.MODEL_DISABLED"
    INTEGRATION_ACTION_NOT_AVAILABLE = "INTEGRATION.ACTION_NOT_AVAILABLE"
    INTEGRATION_ACTION_DISABLED = "INTEGRATION.ACTION_DISABLED"
    REMOTE_SERVICE_UNAVAILABLE = "REMOTE.SERVICE_UNAVAILABLE"
    REMOTE_RATE_LIMIT_EXCEEDED = "REMOTE.RATE_LIMIT_EXCEEDED"
    REMOTE_INPUT_INVALID = "REMOTE.INPUT_INVALID"
    REMOTE_UNKNOWN_HTTP_ERROR = "REMOTE.UNKNOWN_HTTP_ERROR"
    ATS_JOB_CLOSED = "ATS.JOB_CLOSED"
    ATS_APPLICATION_ALREADY_EXISTS = "ATS.APPLICATION_ALREADY_EXISTS"


#: Codes Kombo documents as safe to retry unchanged.
RETRYABLE_ERROR_CODES: Final = frozenset(
    {
        ErrorCode.PLATFORM_RATE_LIMIT_EXCEEDED,
        ErrorCode.PLATFORM_CONCURRENCY_LIMIT_EXCEEDED,
        ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED,
        ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
    }
)

#: Kombo's pattern for ``completed_at`` and ``created_after``; a ``+00:00`` offset does not match.
TIMESTAMP_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?Z?$"
#: Kombo's pattern for attachment content types: no parameters, no ``+`` suffixes.
CONTENT_TYPE_PATTERN: Final = r"^[\w.-]+\/[\w.-]+$"

_TIMESTAMP_RE: Final = re.compile(TIMESTAMP_PATTERN)


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime the way Kombo wants it: ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def is_kombo_timestamp(value: str) -> bool:
    return _TIMESTAMP_RE.match(value) is not None
