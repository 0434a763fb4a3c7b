"""The sandbox's settings, including every behaviour the Kombo contract marks "not confirmed".

Each such choice is a field here with the documented assumption as its default, so a test (or a vendor
who learns better from the real Kombo) can flip it.
"""

from __future__ import annotations

from typing import Literal

import msgspec


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
