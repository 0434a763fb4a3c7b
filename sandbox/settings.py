"""The sandbox's settings, including every behaviour the Kombo contract marks "not confirmed".

Each such choice is a field here with the documented assumption as its default, so a test (or a vendor
who learns better from the real Kombo) can flip it.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sandbox.schema import EMAIL_PATTERN, URI_PATTERN


class SandboxSettings(msgspec.Struct, frozen=True, kw_only=True):
    #: The bearer key clients must send (``Authorization: Bearer <key>``).
    api_key: str
    #: Where webhooks go (the gateway's ``/kombo/webhooks``); empty: none are sent.
    webhook_url: str = ""
    #: The secret webhooks are signed with (``X-Kombo-Signature``).
    webhook_secret: str = ""
    #: The sandbox's own public base URL (for connect links), e.g. ``http://127.0.0.1:9000``.
    public_url: str = "http://127.0.0.1:9000"
    webhook_timeout_s: float = 30.0
    inline_webhook_timeout_s: float = 15.0
    #: Kombo's webhook retry policy is not confirmed (contract §6): the delays, in seconds, before each new
    #: attempt to deliver a webhook that could not reach the receiver (no connection, a timeout). Empty: no retry
    #: (standalone). The sandbox mounted in the gateway retries, since it may send before the gateway listens.
    webhook_retry_delays_s: tuple[float, ...] = ()

    # --- not confirmed by Kombo (contract §6); defaults are the documented assumptions ---
    #: §6.1: the 422 body Kombo recognises; ``top_level_message`` = ``{"message": "..."}``.
    reject_body: Literal["top_level_message", "error_envelope"] = "top_level_message"
    #: §6.2: whether a 422 also rejects inline orders.
    inline_honours_422: bool = True
    #: §6.7: HTTP status for a forbidden status change (code PLATFORM.INPUT_INVALID).
    transition_error_status: int = 400
    #: §6.8: whether re-sending the same final status (COMPLETED -> COMPLETED) is accepted.
    allow_same_final_status: bool = True
    #: §6.7: whether COMPLETED/CANCELLED without ``completed_at`` is refused (Kombo asks for it).
    require_completed_at: bool = True
    #: §6.9: whether ``GET /assessment/packages`` lists packages marked deleted.
    list_deleted_packages: bool = False
    #: §6.9: whether duplicate package ids in one PUT are refused.
    reject_duplicate_package_ids: bool = True
    #: §2.5: Kombo downloads ``data_url`` attachments immediately; a failed download fails the PUT.
    download_attachments: bool = True
    #: §1.1: rate-limit headers on every response (window not confirmed; informational here).
    ratelimit_limit: int = 300
    #: HTTP statuses Kombo does not document for these codes (its SDK's test mocks only show 400 for
    #: PLATFORM.INPUT_INVALID and 401 for PLATFORM.AUTHENTICATION_INVALID).
    integration_not_found_status: int = 404
    inactive_status: int = 403
    invalid_credentials_status: int = 401
    #: §6.7: HTTP status for an unknown order id, connect token, integration field or custom field. Kombo's
    #: code sets have no "not found" code besides PLATFORM.INTEGRATION_NOT_FOUND, so the code is
    #: PLATFORM.INPUT_INVALID.
    not_found_status: int = 404
    #: HTTP status for what a sandbox (assessment) integration cannot do: passthrough, force-sync, a setup
    #: link (Kombo documents PLATFORM.INPUT_INVALID when there are no setup steps) and the ATS/HRIS models
    #: (code INTEGRATION.MODEL_NOT_AVAILABLE).
    unsupported_status: int = 400
    #: HTTP status for a path under ``/v1`` that Kombo does not have (code PLATFORM.INPUT_INVALID).
    unknown_endpoint_status: int = 404
    #: Kombo's request schemas are open (§2.3); refusing unknown keys makes a misspelt field fail here
    #: instead of being silently dropped, as the gateway's own results API does.
    reject_unknown_fields: bool = True
    #: §3.7: whether ``PUT /integrations/{id}/enabled`` sends ``integration-state-changed``.
    state_webhook_on_enabled: bool = True
    #: The schema says ``format: email`` / ``format: uri`` without naming a validator; these are the sandbox's.
    email_pattern: str = EMAIL_PATTERN
    uri_pattern: str = URI_PATTERN
    #: ``create-link`` with an ``integration_tool`` other than ``sandbox``: connect a ``sandbox:`` integration
    #: anyway (true) or refuse it with PLATFORM.INPUT_INVALID (false).
    connect_any_tool: bool = True
