"""A background check's status, richer than Kombo's, and how it becomes a Kombo result.

The screening process reports a status for the case and one per check (criminal record, identity,
employment history, ...). Kombo knows OPEN, COMPLETED and CANCELLED; the mapping (docs/adapters.md):

* invited, awaiting_candidate, in_progress, suspended -> OPEN (the ATS shows progress in the ``Status`` text)
* clear, consider -> COMPLETED, with the outcome as a TEXT attribute ``Outcome``
* cancelled -> CANCELLED
* each check -> a SUB_RESULT (score 1/1 clear, 0/1 consider; CANCELLED when not performed) and, for
  consider, a TEXT attribute with its note; report documents -> attachments (by URL).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

import msgspec
from msgspec import UNSET, Meta

from core.kombo.result_body import (
    MAX_ATTACHMENTS,
    Attachment,
    Attribute,
    ResultBody,
    SubResultAttribute,
    SubResultScore,
    TextAttribute,
)
from core.kombo.vocabulary import CONTENT_TYPE_PATTERN, TIMESTAMP_PATTERN, ResultStatus, SubResultStatus


class CaseStatus(StrEnum):
    INVITED = "invited"
    AWAITING_CANDIDATE = "awaiting_candidate"
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    CLEAR = "clear"
    CONSIDER = "consider"
    CANCELLED = "cancelled"


class CheckStatus(StrEnum):
    PENDING = "pending"
    CLEAR = "clear"
    CONSIDER = "consider"
    NOT_PERFORMED = "not_performed"


# A report is checked against the rules of the result it becomes, so a bad one is refused where it arrives
# (422 to the screening platform, naming the field) rather than failing later as a write-back.
Text = Annotated[str, Meta(pattern=r"\S")]  # not blank: Kombo refuses blank labels, ids and names
Url = Annotated[str, Meta(pattern=r"^https?://")]


class Check(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Text
    label: Text
    status: CheckStatus
    note: str = ""


class Document(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Text
    url: Url
    content_type: Annotated[str, Meta(pattern=CONTENT_TYPE_PATTERN)] = "application/pdf"


class CaseReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the screening process posts as a callback (``{"type": "background_check.report", ...}``)."""

    status: CaseStatus
    checks: tuple[Check, ...] = ()
    report_url: Url | None = None
    documents: Annotated[tuple[Document, ...], Meta(max_length=MAX_ATTACHMENTS)] = ()
    completed_at: Annotated[str, Meta(pattern=TIMESTAMP_PATTERN)] | None = None
    reason: str = ""


#: Case statuses that end the case; every other one is OPEN in Kombo.
_RESULT_STATUS: Final = {
    CaseStatus.CLEAR: ResultStatus.COMPLETED,
    CaseStatus.CONSIDER: ResultStatus.COMPLETED,
    CaseStatus.CANCELLED: ResultStatus.CANCELLED,
}

_LABEL: Final = {
    CaseStatus.INVITED: "Candidate invited",
    CaseStatus.AWAITING_CANDIDATE: "Waiting for the candidate",
    CaseStatus.IN_PROGRESS: "Checks in progress",
    CaseStatus.SUSPENDED: "Suspended",
    CaseStatus.CLEAR: "Clear",
    CaseStatus.CONSIDER: "Consider",
    CaseStatus.CANCELLED: "Cancelled",
}


def to_result(report: CaseReport, *, result_url: str, now: str) -> ResultBody:
    """The Kombo result body for a case report (the results path validates it as any other)."""
    attributes: list[Attribute] = [TextAttribute(label="Outcome", value=_LABEL[report.status])]
    for check in report.checks:
        if check.status is CheckStatus.PENDING:
            attributes.append(TextAttribute(label=check.label, value="Pending"))
            continue
        attributes.append(
            SubResultAttribute(
                id=check.id,
                label=f"{check.label}: {check.status.value.replace('_', ' ')}",
                score=SubResultScore(value=1 if check.status is CheckStatus.CLEAR else 0, max=1),
                status=SubResultStatus.CANCELLED
                if check.status is CheckStatus.NOT_PERFORMED
                else SubResultStatus.COMPLETED,
            )
        )
        if check.status is CheckStatus.CONSIDER and check.note.strip():
            attributes.append(TextAttribute(label=f"{check.label} note", value=check.note))
    if report.reason.strip():
        attributes.append(TextAttribute(label="Reason", value=report.reason))
    status = _RESULT_STATUS.get(report.status, ResultStatus.OPEN)
    return ResultBody(
        status=status,
        result_url=report.report_url or result_url,
        completed_at=UNSET if status is ResultStatus.OPEN else report.completed_at or now,
        attributes=tuple(attributes),
        attachments=tuple(
            Attachment(name=d.name, data_url=d.url, content_type=d.content_type) for d in report.documents
        ),
    )
