"""Kombo's Assessment API contract as msgspec types (see ``docs/kombo-contract.md``).

Inbound documents (webhooks, order lists, error envelopes) parse leniently; outbound documents
(package catalogs, result bodies, link requests) are strict. Decoding raises only
:class:`core.errors.PayloadInvalid`.
"""

from core.kombo.connect import (
    ApiKeyCheck,
    CreateLinkRequest,
    Integration,
    IntegrationByToken,
    Link,
    RelinkRequest,
)
from core.kombo.decoding import convert, decode_json
from core.kombo.envelopes import Empty, ErrorDetail, ErrorEnvelope, KomboWarning, Success
from core.kombo.events import (
    AssessmentOrderReceived,
    ConnectionFlowFailed,
    InlineAssessmentOrderReceived,
    IntegrationCreated,
    IntegrationDeleted,
    IntegrationStateChanged,
    OrderEvent,
    OrderReceivedData,
    UnknownEvent,
    WebhookEvent,
    parse_event,
)
from core.kombo.orders import Application, Candidate, HiringTeamMember, Job, Location, Order, OrderPage
from core.kombo.packages import ListedPackage, Package, PackageList, PutPackagesRequest
from core.kombo.result_body import (
    Attachment,
    Attribute,
    RemoteFields,
    ResultBody,
    SubResultAttribute,
    SubResultScore,
    TextAttribute,
)
from core.kombo.signature import sign, verify
from core.kombo.vocabulary import (
    ErrorCode,
    EventType,
    IntegrationCategory,
    IntegrationState,
    OrderStatus,
    PackageType,
    ResultStatus,
    SubResultStatus,
    format_timestamp,
)

__all__ = [
    "ApiKeyCheck",
    "Application",
    "AssessmentOrderReceived",
    "Attachment",
    "Attribute",
    "Candidate",
    "ConnectionFlowFailed",
    "CreateLinkRequest",
    "Empty",
    "ErrorCode",
    "ErrorDetail",
    "ErrorEnvelope",
    "EventType",
    "HiringTeamMember",
    "InlineAssessmentOrderReceived",
    "Integration",
    "IntegrationByToken",
    "IntegrationCategory",
    "IntegrationCreated",
    "IntegrationDeleted",
    "IntegrationState",
    "IntegrationStateChanged",
    "Job",
    "Link",
    "ListedPackage",
    "Location",
    "Order",
    "OrderEvent",
    "OrderPage",
    "OrderReceivedData",
    "OrderStatus",
    "Package",
    "PackageList",
    "PackageType",
    "PutPackagesRequest",
    "RelinkRequest",
    "RemoteFields",
    "ResultBody",
    "ResultStatus",
    "SubResultAttribute",
    "SubResultScore",
    "SubResultStatus",
    "Success",
    "TextAttribute",
    "UnknownEvent",
    "KomboWarning",
    "WebhookEvent",
    "convert",
    "decode_json",
    "format_timestamp",
    "parse_event",
    "sign",
    "verify",
]
