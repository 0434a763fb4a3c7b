"""The result body of ``PUT /assessment/orders/{id}/result``, with every documented rule.

This is what we send, so it is strict: the enums are closed, and the rules msgspec cannot express as
field constraints (exactly one of ``data``/``data_url``, ``content_type`` with ``data``) are checked in
``__post_init__`` and surface as the same validation error. Unknown keys are ignored on decode, as in
Kombo's own (open) schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from core.kombo.vocabulary import CONTENT_TYPE_PATTERN, TIMESTAMP_PATTERN, ResultStatus, SubResultStatus

Timestamp = Annotated[str, Meta(pattern=TIMESTAMP_PATTERN)]
ContentType = Annotated[str, Meta(pattern=CONTENT_TYPE_PATTERN)]
Url = Annotated[str, Meta(min_length=1)]
MAX_ATTACHMENTS = 5


class TextAttribute(Struct, frozen=True, kw_only=True, tag_field="type", tag="TEXT"):
    label: str
    value: str


class SubResultScore(Struct, frozen=True, kw_only=True):
    value: float
    max: Annotated[float, Meta(ge=1)]


class SubResultAttribute(Struct, frozen=True, kw_only=True, tag_field="type", tag="SUB_RESULT"):
    id: str
    label: str
    score: SubResultScore
    status: SubResultStatus


Attribute = TextAttribute | SubResultAttribute


class Attachment(Struct, frozen=True, kw_only=True):
    """A file shown in the ATS: give exactly one of ``data`` (base64) or ``data_url`` (fetchable, no auth)."""

    name: Annotated[str, Meta(min_length=1)]
    content_type: ContentType | UnsetType = UNSET
    data_url: Url | UnsetType = UNSET
    data: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        has_data = self.data is not UNSET
        has_url = self.data_url is not UNSET
        if has_data == has_url:
            raise ValueError("exactly one of `data` and `data_url` must be given")
        if has_data and self.content_type is UNSET:
            raise ValueError("`content_type` is required when `data` is given")


class SmartRecruitersFields(Struct, frozen=True, kw_only=True):
    score_label: str | UnsetType = field(default=UNSET, name="scoreLabel")


class RecruiteeFields(Struct, frozen=True, kw_only=True):
    subtitle: str | UnsetType = UNSET


class WorkdayStatusReference(Struct, frozen=True, kw_only=True):
    assessment_status_id: str = field(name="Assessment_Status_ID")


class WorkdayTestResultData(Struct, frozen=True, kw_only=True):
    assessment_test_status_reference: WorkdayStatusReference | UnsetType = field(
        default=UNSET, name="Assessment_Test_Status_Reference"
    )


class WorkdayCandidateAssessmentData(Struct, frozen=True, kw_only=True):
    assess_candidate_test_result_data: WorkdayTestResultData | UnsetType = field(
        default=UNSET, name="Assess_Candidate_Test_Result_Data"
    )


class WorkdayAssessCandidateData(Struct, frozen=True, kw_only=True):
    candidate_assessment_data: WorkdayCandidateAssessmentData | UnsetType = field(
        default=UNSET, name="Candidate_Assessment_Data"
    )


class WorkdayFields(Struct, frozen=True, kw_only=True):
    assess_candidate_data: WorkdayAssessCandidateData | UnsetType = field(default=UNSET, name="Assess_Candidate_Data")


class RemoteFields(Struct, frozen=True, kw_only=True):
    """Per-ATS pass-through values, with Kombo's wire names (camelCase, Pascal_Snake_Case)."""

    smartrecruiters: SmartRecruitersFields | UnsetType = UNSET
    recruitee: RecruiteeFields | UnsetType = UNSET
    workday: WorkdayFields | UnsetType = UNSET


class ResultBody(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Body of ``PUT /assessment/orders/{assessment_order_id}/result``."""

    status: ResultStatus
    result_url: Url
    completed_at: Timestamp | UnsetType = UNSET
    score: float | UnsetType = UNSET
    max_score: float | UnsetType = UNSET
    attributes: tuple[Attribute, ...] = ()
    attachments: Annotated[tuple[Attachment, ...], Meta(max_length=MAX_ATTACHMENTS)] = ()
    remote_fields: RemoteFields | UnsetType = UNSET


#: Statuses after which Kombo will not let an order change status again.
FINAL_RESULT_STATUSES = frozenset({ResultStatus.COMPLETED, ResultStatus.CANCELLED})


def requires_completed_at(status: ResultStatus | Literal["OPEN", "COMPLETED", "CANCELLED"]) -> bool:
    """Kombo asks for ``completed_at`` whenever the result is final."""
    return ResultStatus(status) in FINAL_RESULT_STATUSES
