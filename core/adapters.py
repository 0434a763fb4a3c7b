"""The handler-adapter contract (version 1): how an order is decided at once and then started.

An adapter is where each vendor differs. It is created from its own typed config and offers:

``decide(order, ctx) -> Decision``
    Runs while the recruiter (or, for inline orders, the candidate) waits, under a deadline: keep it fast
    and free of slow I/O. Return :class:`Accept`, :class:`Reject` with a message the recruiter can act on,
    or, for an inline order, :class:`Inline` with the candidate's ``assessment_url``. If it overruns the
    deadline the order is accepted and handled asynchronously.

``start(order, ctx)``
    Runs later from the outbox (at least once: be idempotent, use ``ctx.idempotency_key``): invite the
    candidate, forward the order to the vendor's platform, schedule reminders.

Third parties ship adapters as Python packages exposing an :class:`AdapterPlugin` under the entry-point group
``assessgate.adapters``; ``plugins.toml`` routes package types to them. The built-in adapters register the
same way. ``api_version`` lets an adapter state the contract version it was written for.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import msgspec

from core.kombo import Application, Candidate, Job

API_VERSION = 1


class Accept(msgspec.Struct, frozen=True, tag="accept"):
    """Take the order; ``start`` follows from the outbox."""


class Reject(msgspec.Struct, frozen=True, tag="reject"):
    """Refuse the order; ``message`` is shown to the recruiter in the ATS where it can be."""

    message: str


class Inline(msgspec.Struct, frozen=True, tag="inline"):
    """An inline order's answer: where the candidate goes now."""

    assessment_url: str


Decision = Accept | Reject | Inline


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """An order as adapters see it."""

    id: uuid.UUID
    kombo_order_id: str
    tenant_id: uuid.UUID
    integration_id: str
    package_id: str
    package_type: str
    inline: bool
    candidate: Candidate
    application: Application | None = None
    job: Job | None = None


class AdapterContext(msgspec.Struct, frozen=True, kw_only=True):
    """What an adapter may use. Later contract versions add more (secrets, mailer, HTTP, timers, results)."""

    tenant_id: uuid.UUID
    public_url: str
    idempotency_key: str
    timeline: Callable[[str, dict[str, Any]], Awaitable[None]]


@runtime_checkable
class Adapter(Protocol):
    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision: ...

    async def start(self, order: OrderView, ctx: AdapterContext) -> None: ...


class AdapterPlugin(msgspec.Struct, frozen=True, kw_only=True):
    """What an ``assessgate.adapters`` entry point names: the adapter's name, contract version, config type
    (a msgspec Struct, validated strictly from ``[adapters.<name>]`` in plugins.toml) and factory."""

    name: str
    api_version: int
    config_type: type[msgspec.Struct]
    create: Callable[[Any], Adapter]
