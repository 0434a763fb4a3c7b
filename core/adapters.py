"""The handler-adapter contract (version 2): how an order is decided at once, started, and followed.

An adapter is where each vendor differs. It is created from its own typed config (``[adapters.<name>]`` in
plugins.toml, with a tenant's overrides merged over it) and offers:

``decide(order, ctx) -> Decision``
    Runs while the recruiter (or, for inline orders, the candidate) waits, under a deadline: keep it fast
    and free of slow I/O. Return :class:`Accept`, :class:`Reject` with a message the recruiter can act on,
    or, for an inline order, :class:`Inline` with the candidate's ``assessment_url``. If it overruns the
    deadline the order is accepted and handled asynchronously.

``start(order, ctx)``
    Runs later from the outbox (at least once: be idempotent, use ``ctx.idempotency_key``): invite the
    candidate, forward the order to the vendor's platform, schedule reminders.

``handle(order, event, ctx) -> Redirect | None`` (optional)
    Runs for each :data:`AdapterEvent` of the order: a timer the adapter scheduled, a candidate opening a
    link the adapter minted (answer :class:`Redirect` to send them on), a candidate form submitted, a
    callback the vendor's platform posted. Timers, submitted forms and callbacks run from the outbox (at
    least once); a link opening runs while the candidate waits.

``form(order) -> FormSpec`` (optional)
    The fields of the candidate form the gateway hosts for this order (links minted with purpose ``form``).

``requirements() -> list[Requirement]`` (optional)
    What the adapter needs before it can serve a tenant: tenant secrets it reads, and settings its config
    lacks. The gateway refuses routes and settings that leave one unmet (422 naming it), names misconfigured
    tenants at start and in ``/ready``, and defers (503, Kombo retries) an order that reaches an adapter with
    one unmet, so a candidate never meets a half-configured adapter.

``ctx`` (:class:`AdapterContext`) is the adapter's whole view of the gateway: the tenant, the names candidates
read (the tenant's and the vendor's), its secrets (read-only), a mailer, an HTTP client, candidate links,
timers, the timeline, the candidate's submitted form data and ``submit_result`` (the same path as the results
API, with the same rules): it takes the typed :class:`core.kombo.ResultBody`, or, as adapters written before it
did, the same body as a dict.

Third parties ship adapters as Python packages exposing an :class:`AdapterPlugin` under the entry-point group
``assessgate.adapters``; ``plugins.toml`` routes package types to them. The built-in adapters register the
same way. ``api_version`` states the contract version an adapter was written for: version 1 adapters (no
``handle``, a context without services) still load.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from core import input_purposes
from core.kombo import Application, Candidate, Job, ResultBody
from core.settings import DEFAULT_VENDOR_NAME

API_VERSION = 2


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
    """An order as adapters see it. ``state`` is the gateway's: accepted, completed or cancelled."""

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
    state: str = "accepted"


# ---------------------------------------------------------------- events


class Timer(msgspec.Struct, frozen=True, kw_only=True, tag="timer"):
    """A timer the adapter scheduled with ``ctx.schedule`` is due."""

    name: str
    payload: dict[str, Any] = {}


class LinkOpened(msgspec.Struct, frozen=True, kw_only=True, tag="link_opened"):
    """The candidate opened a link minted with ``ctx.candidate_link`` (valid, unexpired, first use)."""

    purpose: str


class FormSubmitted(msgspec.Struct, frozen=True, kw_only=True, tag="form_submitted"):
    """The candidate submitted the hosted form; read the data with ``ctx.candidate_data()`` (kept encrypted,
    never carried in the event itself)."""

    submission_id: str


class Callback(msgspec.Struct, frozen=True, kw_only=True, tag="callback"):
    """The vendor's platform posted to ``/v1/tenants/{tenant}/orders/{order}/events`` with a tenant key."""

    payload: dict[str, Any]


AdapterEvent = Timer | LinkOpened | FormSubmitted | Callback


class Redirect(msgspec.Struct, frozen=True):
    """Where to send a candidate who opened a link."""

    url: str


# ---------------------------------------------------------------- the candidate form

FieldKind = Literal["text", "email", "date", "tel", "country", "checkbox", "select", "textarea", "address_history"]


class FormField(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One field of a hosted candidate form. ``address_history`` collects several addresses with dates."""

    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = True
    help: str = ""
    options: tuple[str, ...] = ()
    #: The field's input purpose (WCAG 1.3.5) as an HTML autocomplete value (``bday``, ``email``, ``tel``,
    #: ``given-name``, ``off`` ...; see :mod:`core.input_purposes`) when it asks about the candidate; "" sends
    #: none. An ``address_history`` names the purposes of its parts itself, and a checkbox has none.
    autocomplete: str = ""

    def __post_init__(self) -> None:
        if not self.autocomplete:
            return
        if self.kind in ("address_history", "checkbox"):
            raise ValueError(f"a {self.kind} field takes no autocomplete")
        if not input_purposes.is_valid(self.autocomplete):
            raise ValueError(
                f"autocomplete {self.autocomplete!r} names no input purpose (for example bday, email, tel, "
                "given-name, postal-code, or off)"
            )


class FormSpec(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    intro: str = ""
    fields: tuple[FormField, ...]
    #: Days the submitted data is kept (encrypted) before it is purged.
    retention_days: int = 30


# ---------------------------------------------------------------- results

#: What ``ctx.submit_result`` takes: Kombo's result body, typed; or the same body as a JSON-shaped dict, the
#: form adapters used before the typed body existed (still taken, so they need no change).
ResultSubmission = ResultBody | dict[str, Any]


def result_document(result: ResultSubmission) -> dict[str, Any]:
    """The JSON document a submission stands for, which the results path validates and stores: a typed
    body in Kombo's wire form (enums as their values, absent fields left out), a dict as it is."""
    if isinstance(result, ResultBody):
        # Through JSON rather than ``to_builtins``, which keeps tuples: the validation expects JSON's lists.
        document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(result))
        return document
    return result


# ---------------------------------------------------------------- services


class MailMessage(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    #: Stable across retries of the same job, so a receiving system can drop a repeated delivery.
    message_id: str | None = None


@runtime_checkable
class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None: ...


class HttpReply(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    headers: dict[str, str]
    body: bytes


@runtime_checkable
class HttpClient(Protocol):
    """Outbound HTTP. Failures to connect or time out raise :class:`core.errors.AssessgateError` (retryable)."""

    async def post(self, url: str, *, content: bytes, headers: Mapping[str, str], timeout_s: float) -> HttpReply: ...


class AdapterContext(msgspec.Struct, frozen=True, kw_only=True):
    """What an adapter may use: everything it touches outside itself goes through here."""

    tenant_id: uuid.UUID
    public_url: str
    idempotency_key: str
    #: Append an entry to the order's timeline (shown in the order API).
    timeline: Callable[[str, dict[str, Any]], Awaitable[None]]
    #: The tenant's secret of this name (decrypted), or None: read-only.
    secret: Callable[[str], Awaitable[str | None]]
    mailer: Mailer
    http: HttpClient
    #: A signed link for the candidate to ``{public_url}/c/{token}``, valid ``ttl_s`` seconds and usable once
    #: per (order, purpose). Pure computation: safe in ``decide``. Purpose ``form`` shows the hosted form.
    candidate_link: Callable[[str, int], str]
    #: ``schedule(name, at_s, payload)``: a :class:`Timer` event at ``at_s`` (Unix seconds); the same name
    #: for the same order is scheduled once.
    schedule: Callable[[str, float, dict[str, Any]], Awaitable[None]]
    #: Submit a result for this order (a :class:`core.kombo.ResultBody`, or the same body as a dict: see
    #: :data:`ResultSubmission`): validated, stored and written back exactly like one posted to the results
    #: API. Returns the result id.
    submit_result: Callable[[ResultSubmission], Awaitable[str]]
    #: The candidate's submitted form data (decrypted), or None when none was submitted or it was purged.
    candidate_data: Callable[[], Awaitable[dict[str, Any] | None]]
    #: The current time in Unix seconds (the gateway's clock, which tests move).
    now_s: Callable[[], float]
    #: The tenant's name (the company that invites the candidate), for candidate-facing text; "" if unknown.
    tenant_name: str = ""
    #: The vendor's display name (``ASSESSGATE_VENDOR_NAME``), for candidate-facing text.
    vendor_name: str = DEFAULT_VENDOR_NAME


@runtime_checkable
class Adapter(Protocol):
    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision: ...

    async def start(self, order: OrderView, ctx: AdapterContext) -> None: ...


@runtime_checkable
class HandlesEvents(Protocol):
    async def handle(self, order: OrderView, event: AdapterEvent, ctx: AdapterContext) -> Redirect | None: ...


@runtime_checkable
class HostsForm(Protocol):
    def form(self, order: OrderView) -> FormSpec: ...


class Requirement(msgspec.Struct, frozen=True, kw_only=True):
    """One thing an adapter needs from a tenant: a secret (by name) or a setting (by key), and why."""

    secret: str | None = None
    setting: str | None = None
    why: str

    def describe(self, adapter: str) -> str:
        if self.secret is not None:
            return f"{adapter} needs the tenant secret {self.secret!r} ({self.why})"
        return f"{adapter} needs the setting {self.setting!r} ({self.why})"


@runtime_checkable
class HasRequirements(Protocol):
    def requirements(self) -> list[Requirement]:
        """The secrets the adapter reads and the settings missing from its config (see the module doc)."""
        ...


class AdapterPlugin(msgspec.Struct, frozen=True, kw_only=True):
    """What an ``assessgate.adapters`` entry point names: the adapter's name, contract version, config type
    (a msgspec Struct, validated strictly from ``[adapters.<name>]`` in plugins.toml) and factory."""

    name: str
    api_version: int
    config_type: type[msgspec.Struct]
    create: Callable[[Any], Adapter]
