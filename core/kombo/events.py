"""Kombo's webhook events as one union, parsed leniently from the raw body.

Kombo puts the event type only in the body (``{"id", "type", "data"}``), and the stream carries types
we do not handle (``data-changed``, ``sync-finished`` ...). So parsing is two steps: read the envelope,
then decode ``data`` into the type's own Struct. An unknown ``type`` becomes :class:`UnknownEvent`
with its ``data`` kept as raw JSON, never an error. Verify the signature *before* calling this.

Lenient is not unbounded: ids, the event type and the integration state are stored in ``VARCHAR`` columns,
so a value too long for its column or holding a control character is refused here (``core/kombo/ids.py``).
"""

from __future__ import annotations

from typing import Final

import msgspec
from msgspec import UNSET, Struct, UnsetType

from core.kombo.decoding import decode_json
from core.kombo.ids import EventTypeName, KomboId, StateName
from core.kombo.orders import Application, Candidate, Job
from core.kombo.vocabulary import EventType


class OrderReceivedData(Struct, frozen=True, kw_only=True):
    """An order as the webhook carries it: like :class:`core.kombo.orders.Order` plus ``integration_id``."""

    id: KomboId
    package_id: KomboId
    status: str
    integration_id: KomboId
    candidate: Candidate
    application: Application | UnsetType = UNSET
    job: Job | UnsetType = UNSET


class EndUser(Struct, frozen=True, kw_only=True):
    organization_name: str | UnsetType = UNSET
    creator_email: str | UnsetType | None = UNSET
    origin_id: str | UnsetType | None = UNSET


class IntegrationData(Struct, frozen=True, kw_only=True):
    """``data`` of ``integration-created`` and ``integration-deleted`` (``deleted_at`` only on the latter)."""

    id: KomboId
    tool: str | UnsetType = UNSET
    category: str | UnsetType = UNSET
    end_user: EndUser | UnsetType = UNSET
    deleted_at: str | UnsetType = UNSET


class IntegrationStateData(Struct, frozen=True, kw_only=True):
    """``data`` of ``integration-state-changed``: note the ``integration_`` prefixes."""

    integration_id: KomboId
    state: StateName
    integration_tool: str | UnsetType = UNSET
    integration_category: str | UnsetType = UNSET
    end_user: EndUser | UnsetType = UNSET
    qa_status: str | UnsetType = UNSET
    setup_status: str | UnsetType = UNSET
    updated_at: str | UnsetType = UNSET


class ConnectionFlowFailedData(Struct, frozen=True, kw_only=True):
    integration_tool: str | UnsetType = UNSET
    integration_category: str | UnsetType = UNSET
    end_user: EndUser | UnsetType = UNSET
    log_url: str | UnsetType | None = UNSET


class _Event(Struct, frozen=True, kw_only=True, tag_field="type"):
    id: KomboId


class AssessmentOrderReceived(_Event, frozen=True, kw_only=True, tag=EventType.ASSESSMENT_ORDER_RECEIVED.value):
    data: OrderReceivedData


class InlineAssessmentOrderReceived(
    _Event, frozen=True, kw_only=True, tag=EventType.INLINE_ASSESSMENT_ORDER_RECEIVED.value
):
    data: OrderReceivedData


class IntegrationCreated(_Event, frozen=True, kw_only=True, tag=EventType.INTEGRATION_CREATED.value):
    data: IntegrationData


class IntegrationDeleted(_Event, frozen=True, kw_only=True, tag=EventType.INTEGRATION_DELETED.value):
    data: IntegrationData


class IntegrationStateChanged(_Event, frozen=True, kw_only=True, tag=EventType.INTEGRATION_STATE_CHANGED.value):
    data: IntegrationStateData


class ConnectionFlowFailed(_Event, frozen=True, kw_only=True, tag=EventType.CONNECTION_FLOW_FAILED.value):
    data: ConnectionFlowFailedData


class UnknownEvent(Struct, frozen=True, kw_only=True):
    """Any event type we do not handle: acknowledged and kept in the event log, never an error."""

    id: KomboId
    type: EventTypeName
    data: msgspec.Raw = msgspec.Raw(b"null")


KnownEvent = (
    AssessmentOrderReceived
    | InlineAssessmentOrderReceived
    | IntegrationCreated
    | IntegrationDeleted
    | IntegrationStateChanged
    | ConnectionFlowFailed
)
WebhookEvent = KnownEvent | UnknownEvent
OrderEvent = AssessmentOrderReceived | InlineAssessmentOrderReceived

_KNOWN: Final[dict[str, type[KnownEvent]]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        AssessmentOrderReceived,
        InlineAssessmentOrderReceived,
        IntegrationCreated,
        IntegrationDeleted,
        IntegrationStateChanged,
        ConnectionFlowFailed,
    )
}


class _Envelope(Struct, frozen=True):
    id: KomboId
    type: EventTypeName
    data: msgspec.Raw = msgspec.Raw(b"null")


def parse_event(raw: bytes) -> WebhookEvent:
    """Parse a (verified) webhook body; raises only :class:`core.errors.PayloadInvalid`."""
    envelope = decode_json(raw, _Envelope, what="webhook")
    known = _KNOWN.get(envelope.type)
    if known is None:
        return UnknownEvent(id=envelope.id, type=envelope.type, data=envelope.data)
    return decode_json(raw, known, what=f"{envelope.type} webhook")
