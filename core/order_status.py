"""An order's status as the order API shows it, which statuses still wait for a result, and where a submitted
result's write-back stands."""

from __future__ import annotations

import enum
from typing import Final


class OrderStatus(enum.StrEnum):
    #: Kombo's order for an integration no tenant holds yet (only ``GET /v1/orders/unrouted`` shows these).
    UNROUTED = "unrouted"
    #: Taken by its adapter; waiting for a result.
    ACCEPTED = "accepted"
    #: Refused at once with a message the recruiter saw (422 to Kombo).
    REJECTED = "rejected"
    #: A COMPLETED result was written back to the ATS.
    COMPLETED = "completed"
    #: A CANCELLED result was written back to the ATS.
    CANCELLED = "cancelled"
    #: The result's write-back failed for good (the job is dead): the timeline says why; retry the job once fixed.
    NEEDS_ATTENTION = "needs_attention"


class WriteBackState(enum.StrEnum):
    """Where a submitted result's write-back to Kombo stands."""

    #: Its job is queued (or retrying).
    QUEUED = "queued"
    #: Kombo accepted it.
    WRITTEN = "written"
    #: A newer result for the same order replaced it before it was sent; nothing was written.
    SUPERSEDED = "superseded"
    #: Kombo refused it for good: the order needs attention.
    FAILED = "failed"


#: Statuses in which an order still waits for its result (a tenant holding one is not deleted without force).
OPEN_STATUSES: Final = (OrderStatus.ACCEPTED, OrderStatus.NEEDS_ATTENTION)
#: What a written-back result's status makes of the order.
AFTER_RESULT: Final = {
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "OPEN": OrderStatus.ACCEPTED,
}
