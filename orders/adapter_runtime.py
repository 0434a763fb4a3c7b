"""The adapters' runtime: the context each adapter call gets, the events it receives (timers, candidate
links, the hosted form, vendor callbacks), and the purge of candidate data past its retention.

Every adapter call goes through here, so an adapter sees one gateway whatever called it: the intake
(``decide``), the outbox (``start``, timers, submitted forms, callbacks) or a candidate's browser (links).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec
import structlog

from core import candidate_links
from core.adapters import (
    Adapter,
    AdapterContext,
    AdapterEvent,
    Callback,
    FormSpec,
    FormSubmitted,
    HandlesEvents,
    HasRequirements,
    HostsForm,
    HttpClient,
    LinkOpened,
    Mailer,
    OrderView,
    Redirect,
    ResultSubmission,
    Timer,
    result_document,
)
from core.clock import as_datetime
from core.errors import AdapterError, AssessgateError, Conflict, NotFound, ValidationFailed
from core.forms import clean_submission, with_names
from core.kombo import OrderReceivedData
from core.metrics import Counter
from core.order_status import OrderStatus
from core.ports import AdapterDirectory
from core.settings import Settings
from jobs.kinds import JobContext, JobKind, PeriodicJob, hourly
from jobs.outbox import Outbox
from orders.candidate_data import CandidateData
from orders.result_submission import Results
from orders.store import OrderRecord, Orders
from storage.database import Database
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository
from tenants.vault import Vault

log = structlog.get_logger()
EVENT_KIND: Final = "adapter.event"
PURGE_KIND: Final = "candidate_data.purge"
FORM: Final = "form"
_ORDER = msgspec.json.Decoder(OrderReceivedData)


class EventJob(msgspec.Struct, frozen=True):
    order_id: str
    event: AdapterEvent


class PurgeCandidateData(msgspec.Struct, frozen=True):
    """Empty: each submission carries its own retention."""


@dataclass(frozen=True)
class AdapterServices:
    """The outside-world services adapters use, built by the composition root from the adapters layer."""

    mailer: Mailer
    http: HttpClient


class LinkProblem(AssessgateError):
    """A candidate link that cannot be used: ``reason`` is invalid, used, closed (the order is finished) or
    unavailable (it failed on our side: the link still works later). ``company``: the tenant's name, when the
    link names an order (so the page can say whom to ask)."""

    def __init__(self, reason: str, company: str = "") -> None:
        super().__init__(f"candidate link {reason}")
        self.reason = reason
        self.company = company


@dataclass(frozen=True)
class OpenLink:
    """A verified, unused link of an open order: what the candidate's pages act on."""

    record: OrderRecord
    order: OrderView
    purpose: str
    form: FormSpec | None
    #: The tenant's name: the company the candidate's pages say invites them.
    company: str


def order_view(record: OrderRecord, data: OrderReceivedData | None = None) -> OrderView:
    assert record.tenant_id is not None
    data = data or _ORDER.decode(record.order_json)
    return OrderView(
        id=record.id,
        kombo_order_id=record.kombo_order_id,
        tenant_id=record.tenant_id,
        integration_id=record.integration_id,
        package_id=record.package_id,
        package_type=record.package_type or "",
        inline=record.inline,
        candidate=data.candidate,
        application=data.application if not isinstance(data.application, msgspec.UnsetType) else None,
        job=data.job if not isinstance(data.job, msgspec.UnsetType) else None,
        state=record.state,
    )


class AdapterRuntime:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        directory: AdapterDirectory,
        services: AdapterServices,
        clock_ms: Callable[[], int],
    ) -> None:
        self.db = db
        self.settings = settings
        self.directory = directory
        self.services = services
        self.clock_ms = clock_ms
        self.orders = Orders(db)
        self.tenants = TenantRepository(db)
        self.outbox = Outbox(db)
        self.results = Results(db, settings.results, clock_ms)
        self.vault = Vault(db, settings.secret_keys)
        self.candidates = CandidateData(db, self.vault)
        self.catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)
        self.page_failures = Counter(
            "assessgate_candidate_page_failures_total", "Candidate links that failed on our side, by adapter."
        )

    # ---------------------------------------------------------------- adapters and their context
    async def adapter(self, tenant_id: uuid.UUID, name: str) -> Adapter | None:
        return self.directory.adapter(name, await self.tenants.adapter_settings(tenant_id, name))

    async def unmet(self, tenant_id: uuid.UUID, name: str, adapter: object) -> list[str]:
        """What ``adapter`` (the tenant's instance of ``name``) still needs from the tenant, each said in words."""
        if not isinstance(adapter, HasRequirements):
            return []
        needed = adapter.requirements()
        stored = set(await self.vault.names(tenant_id)) if any(r.secret for r in needed) else set()
        return [r.describe(name) for r in needed if r.secret is None or r.secret not in stored]

    async def misconfiguration(
        self,
        tenant_id: uuid.UUID,
        overrides: Mapping[str, str] | None = None,
        *,
        only: set[str] | None = None,
    ) -> list[str]:
        """Unmet requirements of every adapter the tenant's catalog routes to (``overrides``: its routes as they
        would be; ``only``: just these adapters), e.g. ``assessment needs the tenant secret '...' (...)``."""
        routes = overrides if overrides is not None else await self.tenants.routes(tenant_id)
        catalog = await self.catalogs.desired(tenant_id)
        types = {package.type.value for package in (catalog[1] if catalog else [])}
        names = {self.directory.route(t, inline=inline, overrides=routes) for t in types for inline in (False, True)}
        if only is not None:
            names &= only
        problems: list[str] = []
        for name in sorted(names):
            adapter = await self.adapter(tenant_id, name)
            problems += [f"{name} is not loaded"] if adapter is None else await self.unmet(tenant_id, name, adapter)
        return problems

    async def misconfigured_tenants(self) -> dict[str, list[str]]:
        """Every live tenant with a catalog whose adapters still need something (tenant id -> what)."""
        found: dict[str, list[str]] = {}
        for tenant_id in await self.catalogs.tenants_with_catalogs():
            problems = await self.misconfiguration(tenant_id)
            if problems:
                found[str(tenant_id)] = problems
        return found

    async def view(self, record: OrderRecord) -> OrderView:
        """The order as its adapter sees it; a final result already submitted counts as the order's state."""
        state = await self.results.order_state(record.id, record.state)
        return msgspec.structs.replace(order_view(record), state=state)

    async def context(
        self,
        record: OrderRecord,
        key: str,
        *,
        timeline_buffer: list[tuple[str, dict[str, Any]]] | None = None,
        tenant_name: str | None = None,
    ) -> AdapterContext:
        """``timeline_buffer`` collects timeline entries instead of writing them: during ``decide`` the order is
        not stored yet, and its entries are written with it."""
        assert record.tenant_id is not None
        tenant_id, order_id = record.tenant_id, record.id

        async def timeline(kind: str, detail: dict[str, Any]) -> None:
            if timeline_buffer is not None:
                timeline_buffer.append((kind, detail))
            else:
                await self.orders.add_timeline(order_id, kind, detail)

        async def secret(name: str) -> str | None:
            return await self.vault.get(tenant_id, name)

        def candidate_link(purpose: str, ttl_s: int) -> str:
            claims = candidate_links.LinkClaims(
                order_id=order_id, purpose=purpose, expires_at_s=self.clock_ms() // 1000 + ttl_s
            )
            return f"{self.settings.base_url}/c/{candidate_links.mint(self.settings.secret_keys[0], claims)}"

        async def schedule(name: str, at_s: float, payload: dict[str, Any]) -> None:
            await self.outbox.enqueue(
                EVENT_KIND,
                EventJob(order_id=str(order_id), event=Timer(name=name, payload=payload)),
                now_ms=self.clock_ms(),
                tenant_id=tenant_id,
                dedupe_key=f"timer:{order_id}:{name}",
                run_at_ms=int(at_s * 1000),
            )

        async def submit_result(result: ResultSubmission) -> str:
            return str((await self.results.submit(tenant_id, order_id, result_document(result))).result_id)

        async def candidate_data() -> dict[str, Any] | None:
            return await self.candidates.read(tenant_id, order_id)

        return AdapterContext(
            tenant_id=tenant_id,
            public_url=self.settings.base_url,
            idempotency_key=key,
            timeline=timeline,
            secret=secret,
            mailer=self.services.mailer,
            http=self.services.http,
            candidate_link=candidate_link,
            schedule=schedule,
            submit_result=submit_result,
            candidate_data=candidate_data,
            now_s=lambda: self.clock_ms() / 1000,
            tenant_name=tenant_name if tenant_name is not None else await self.tenant_name(tenant_id),
            vendor_name=self.settings.vendor_name,
        )

    async def tenant_name(self, tenant_id: uuid.UUID) -> str:
        tenant = await self.tenants.get(tenant_id)
        return tenant.name if tenant else ""

    # ---------------------------------------------------------------- events from the outbox
    def kinds(self) -> tuple[list[JobKind[Any]], list[PeriodicJob]]:
        purge_kind, purge_schedule = hourly(PURGE_KIND, PurgeCandidateData, self.purge)
        return [JobKind(EVENT_KIND, EventJob, self.run_event), purge_kind], [purge_schedule]

    async def run_event(self, payload: EventJob, ctx: JobContext) -> None:
        record = await self.orders.get(uuid.UUID(payload.order_id), tenant_id=None)
        if record is None or record.tenant_id is None or record.adapter is None:
            return
        adapter: object = await self.adapter(record.tenant_id, record.adapter)
        if adapter is None:
            raise AssessgateError(f"adapter {record.adapter!r} is not loaded", retryable=True)
        if not isinstance(adapter, HandlesEvents):
            await self.orders.add_timeline(record.id, "event.ignored", {"event": type(payload.event).__name__})
            return
        await adapter.handle(await self.view(record), payload.event, await self.context(record, ctx.idempotency_key))

    async def callback(self, tenant_id: uuid.UUID, order_ref: str, payload: dict[str, Any]) -> None:
        """The vendor's platform posted an event for the order (the gateway's id or Kombo's): the adapter handles
        it now, so the platform hears of a bad report at once (422); what it submits is durable before the answer."""
        record = await self.orders.resolve(tenant_id, order_ref)
        if record.state in {OrderStatus.UNROUTED, OrderStatus.REJECTED} or record.adapter is None:
            raise NotFound(f"no open order {order_ref!r}")
        adapter: object = await self.adapter(tenant_id, record.adapter)
        if not isinstance(adapter, HandlesEvents):
            raise Conflict(f"the order's adapter {record.adapter!r} takes no callbacks")
        await self.orders.add_timeline(record.id, "callback.received", {"type": str(payload.get("type", "?"))[:100]})
        try:
            await adapter.handle(
                await self.view(record), Callback(payload=payload), await self.context(record, f"cb:{record.id}")
            )
        except (ValidationFailed, NotFound, Conflict):
            raise
        except AssessgateError as exc:
            raise AdapterError(
                f"{record.adapter} could not handle the callback: {exc}", retryable=exc.retryable
            ) from None

    async def purge(self, payload: PurgeCandidateData, ctx: JobContext) -> None:
        del payload, ctx
        purged = await self.candidates.purge(now=self._now())
        if purged:
            log.info("candidate_data_purged", submissions=purged)

    # ---------------------------------------------------------------- candidate links and the hosted form
    async def open_link(self, token: str) -> OpenLink:
        """What a candidate link leads to; raises :class:`LinkProblem` for a link that cannot be used."""
        claims = candidate_links.verify(self.settings.secret_keys, token, now_s=self.clock_ms() / 1000)
        if claims is None:
            raise LinkProblem("invalid")
        record = await self.orders.get(claims.order_id, tenant_id=None)
        if record is None or record.tenant_id is None:
            raise LinkProblem("invalid")
        view = await self.view(record)
        company = await self.tenant_name(record.tenant_id)
        if view.state != "accepted":
            raise LinkProblem("closed", company)
        if await self.candidates.used(record.id, claims.purpose):
            raise LinkProblem("used", company)
        form = None
        if claims.purpose == FORM:
            adapter: object = await self.adapter(view.tenant_id, record.adapter or "")
            if not isinstance(adapter, HostsForm):
                raise LinkProblem("invalid")
            form = with_names(adapter.form(view), {"company": company, "vendor": self.settings.vendor_name})
        return OpenLink(record=record, order=view, purpose=claims.purpose, form=form, company=company)

    async def follow_link(self, link: OpenLink) -> str:
        """The candidate confirmed: record the link's (only) use and return where the adapter sends them."""
        record = link.record
        adapter: object = await self.adapter(link.order.tenant_id, record.adapter or "")
        if not isinstance(adapter, HandlesEvents):
            raise LinkProblem("invalid")
        try:
            answer = await adapter.handle(
                link.order, LinkOpened(purpose=link.purpose), await self.context(record, f"link:{record.id}")
            )
        except AssessgateError as exc:  # the candidate gets a page; the operator the timeline and a metric
            self.page_failures.inc(adapter=record.adapter or "")
            log.error("candidate_link_failed", order_id=str(record.id), adapter=record.adapter, error=exc.message)
            await self.orders.add_timeline(record.id, "candidate.link_failed", {"error": exc.message})
            raise LinkProblem("unavailable", link.company) from None
        if not isinstance(answer, Redirect):
            raise LinkProblem("invalid")
        async with self.db.tx():
            if not await self.candidates.redeem(record.id, link.purpose, at=self._now()):
                raise LinkProblem("used", link.company)
            await self.orders.add_timeline(record.id, "link.opened", {"purpose": link.purpose})
        return answer.url

    async def submit_form(self, link: OpenLink, raw: dict[str, str]) -> dict[str, str]:
        """Validate and store a form submission; returns the errors by field (stored only without errors)."""
        if link.form is None:
            raise LinkProblem("invalid")
        data, errors = clean_submission(link.form, raw)
        if errors:
            return errors
        submission = uuid.uuid4()
        order = link.order
        async with self.db.tx():
            if not await self.candidates.redeem(order.id, FORM, at=self._now()):
                raise LinkProblem("used", link.company)
            await self.candidates.store(
                submission, order.tenant_id, order.id, data, at=self._now(), retention_days=link.form.retention_days
            )
            await self.orders.add_timeline(order.id, "form.submitted", {"fields": sorted(data)})
            await self.outbox.enqueue(
                EVENT_KIND,
                EventJob(order_id=str(order.id), event=FormSubmitted(submission_id=str(submission))),
                now_ms=self.clock_ms(),
                tenant_id=order.tenant_id,
                dedupe_key=f"form:{order.id}",
            )
        return {}

    def _now(self) -> datetime:
        return as_datetime(self.clock_ms())
