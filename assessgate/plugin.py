"""The handler-adapter contract, as a plugin imports it.

    from assessgate.plugin import API_VERSION, Accept, AdapterContext, AdapterPlugin, Decision, OrderView

An adapter package exposes an :class:`AdapterPlugin` under the entry-point group ``assessgate.adapters``;
the gateway creates the adapter from its typed config and calls ``decide``, ``start`` and, if it has them,
``handle``, ``form`` and ``requirements`` (the whole contract is described in ``docs/adapters.md``).

Results go back through ``ctx.submit_result`` as a :class:`ResultBody` (Kombo's
``PUT /assessment/orders/{id}/result`` body, typed): its status, score, attributes (text and sub-results)
and attachments are exported here. A dict of the same JSON shape, as adapters wrote before the typed body,
is still taken.
"""

from core.adapters import (
    API_VERSION,
    Accept,
    Adapter,
    AdapterContext,
    AdapterEvent,
    AdapterPlugin,
    Callback,
    Decision,
    FieldKind,
    FormField,
    FormSpec,
    FormSubmitted,
    HandlesEvents,
    HasRequirements,
    HostsForm,
    HttpClient,
    HttpReply,
    Inline,
    LinkOpened,
    Mailer,
    MailMessage,
    OrderView,
    Redirect,
    Reject,
    Requirement,
    ResultSubmission,
    Timer,
)
from core.errors import AdapterError, AssessgateError, FieldError, ValidationFailed
from core.kombo.orders import Application, Candidate, HiringTeamMember, Job, Location
from core.kombo.result_body import (
    MAX_ATTACHMENTS,
    Attachment,
    Attribute,
    RecruiteeFields,
    RemoteFields,
    ResultBody,
    SmartRecruitersFields,
    SubResultAttribute,
    SubResultScore,
    TextAttribute,
    WorkdayAssessCandidateData,
    WorkdayCandidateAssessmentData,
    WorkdayFields,
    WorkdayStatusReference,
    WorkdayTestResultData,
)
from core.kombo.vocabulary import PackageType, ResultStatus, SubResultStatus, format_timestamp

__all__ = [
    # the plugin and the adapter it creates
    "API_VERSION",
    "AdapterPlugin",
    "Adapter",
    "HandlesEvents",
    "HostsForm",
    "HasRequirements",
    "Requirement",
    # decide's answers
    "Decision",
    "Accept",
    "Reject",
    "Inline",
    # the order an adapter sees
    "OrderView",
    "Candidate",
    "Application",
    "Job",
    "Location",
    "HiringTeamMember",
    "PackageType",
    # events for handle, and its answer
    "AdapterEvent",
    "Timer",
    "LinkOpened",
    "FormSubmitted",
    "Callback",
    "Redirect",
    # the hosted candidate form
    "FormSpec",
    "FormField",
    "FieldKind",
    # the context and its services
    "AdapterContext",
    "Mailer",
    "MailMessage",
    "HttpClient",
    "HttpReply",
    # the result an adapter submits, typed
    "ResultSubmission",
    "ResultBody",
    "ResultStatus",
    "Attribute",
    "TextAttribute",
    "SubResultAttribute",
    "SubResultScore",
    "SubResultStatus",
    "Attachment",
    "MAX_ATTACHMENTS",
    "RemoteFields",
    "SmartRecruitersFields",
    "RecruiteeFields",
    "WorkdayFields",
    "WorkdayAssessCandidateData",
    "WorkdayCandidateAssessmentData",
    "WorkdayTestResultData",
    "WorkdayStatusReference",
    "format_timestamp",
    # errors an adapter raises (retryable=True: the outbox tries again)
    "AssessgateError",
    "AdapterError",
    "ValidationFailed",
    "FieldError",
]
