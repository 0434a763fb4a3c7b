"""The sandbox's behaviour, independent of HTTP routing: Kombo's rules, applied to ``SandboxState``."""

from __future__ import annotations

import asyncio
import random
import secrets
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import structlog

from core.kombo import ResultBody, ResultStatus, SubResultAttribute
from core.kombo.vocabulary import TIMESTAMP_PATTERN, is_kombo_timestamp
from sandbox.attachments import fetch_attachments
from sandbox.errors import KomboApiError, input_invalid
from sandbox.faults import Faults
from sandbox.integration_views import integration_event_data
from sandbox.paging import decode_cursor, encode_cursor, normalise_timestamp, parse_page_size
from sandbox.schema import CreateLink, PutPackages, Relink, check_create_link, check_result, decode
from sandbox.settings import SandboxSettings
from sandbox.snapshot_store import MemoryStore, SandboxStore
from sandbox.state import ConnectLink, Integration, OrderRecord, PackageRecord, SandboxState, now_iso
from sandbox.webhook_sender import WebhookSender

log = structlog.get_logger()
ORDER_STATUSES = ("OPEN", "COMPLETED", "CANCELLED", "REJECTED")


class Sandbox:
    def __init__(
        self,
        settings: SandboxSettings,
        client: httpx.AsyncClient | None = None,
        store: SandboxStore | None = None,
        downloader: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.state = SandboxState()
        self.faults = Faults()
        self.client = client or httpx.AsyncClient()
        #: Fetches attachments' ``data_url``s; inside the gateway, a client held to its outbound policy.
        self.downloader = downloader or self.client
        #: The demo's stand-in vendor platform (sandbox/demo_platform.py), configured by ``assessgate demo``.
        self.demo_platform: object | None = None
        self.store: SandboxStore = store or MemoryStore()
        self._save_lock = asyncio.Lock()
        self.rng = random.Random()  # noqa: S311 - fault sampling, not security
        self.webhooks = WebhookSender(settings, self.state, self.faults, self.client, on_change=self.save)

    async def load(self) -> None:
        """Restore the state the store kept (nothing for the in-memory default)."""
        try:
            raw = await self.store.load()
        except Exception as exc:  # noqa: BLE001 - a development tool starts empty rather than not at all
            log.warning("sandbox_state_not_loaded", error=f"{type(exc).__name__}: {exc}")
            return
        if raw is not None:
            self.state.restore(raw)

    async def save(self) -> None:
        """Hand the whole state to the store; called after every change."""
        if not self.store.persistent:
            return
        async with self._save_lock:
            try:
                await self.store.save(self.state.snapshot())
            except Exception as exc:  # noqa: BLE001 - losing persistence must not break the sandbox itself
                log.warning("sandbox_state_not_saved", error=f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ request gate
    async def gate(self, authorization: str | None, target: str) -> None:
        """Authenticate, then apply any fault injected for ``target``."""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            key.strip().encode(), self.settings.api_key.encode()
        ):
            raise KomboApiError(401, "PLATFORM.AUTHENTICATION_INVALID", "The API key is missing or invalid.")
        rule = self.faults.take(target, rng_value=self.rng.random())
        if rule is None:
            return
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.action == "fail":
            headers = dict(rule.headers)
            if rule.status == 429:  # noqa: PLR2004
                headers = {
                    "ratelimit-limit": str(self.settings.ratelimit_limit),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": "1",
                    **headers,
                }
            raise KomboApiError(rule.status, rule.code, rule.message, headers=headers)

    def not_found(self, message: str) -> KomboApiError:
        """Kombo has no "not found" code for these; the status is an assumption (docs/sandbox.md)."""
        return KomboApiError(self.settings.not_found_status, "PLATFORM.INPUT_INVALID", message)

    def integration(self, integration_id: str | None) -> Integration:
        if not integration_id:
            raise input_invalid("The X-Integration-Id header is required.")
        found = self.state.integrations.get(integration_id)
        if found is None:
            raise KomboApiError(
                self.settings.integration_not_found_status,
                "PLATFORM.INTEGRATION_NOT_FOUND",
                f"No integration {integration_id!r}.",
            )
        return found

    def usable_integration(self, integration_id: str | None) -> Integration:
        """An integration the ATS can be reached through (assessment endpoints)."""
        found = self.integration(integration_id)
        if found.status == "INACTIVE":
            raise KomboApiError(self.settings.inactive_status, "INTEGRATION.INACTIVE", "The integration is inactive.")
        if found.status == "INVALID":
            raise KomboApiError(
                self.settings.invalid_credentials_status,
                "INTEGRATION.AUTHENTICATION_INVALID",
                "The ATS credentials are invalid.",
            )
        return found

    # ------------------------------------------------------------------ packages
    async def put_packages(self, integration: Integration, raw: bytes) -> None:
        body = decode(raw, PutPackages, reject_unknown=self.settings.reject_unknown_fields)
        ids = [p.id for p in body.packages]
        if self.settings.reject_duplicate_package_ids and len(ids) != len(set(ids)):
            raise input_invalid("Package ids must be unique.")
        catalog = self.state.packages.setdefault(integration.id, {})
        stamp = now_iso()
        for package in body.packages:
            current = catalog.get(package.id)
            if (
                current is None
                or current.deleted
                or (current.type, current.name, current.description)
                != (package.type.value, package.name, package.description)
            ):
                catalog[package.id] = PackageRecord(
                    id=package.id,
                    type=package.type.value,
                    name=package.name,
                    description=package.description,
                    updated_at=stamp,
                )
        for package_id, record in catalog.items():
            if package_id not in ids and not record.deleted:
                record.deleted = True
                record.updated_at = stamp
        await self.save()

    def list_packages(self, integration: Integration) -> list[dict[str, Any]]:
        catalog = self.state.packages.get(integration.id, {})
        return [
            {"id": p.id, "name": p.name, "description": p.description, "updated_at": p.updated_at, "type": p.type}
            for p in catalog.values()
            if self.settings.list_deleted_packages or not p.deleted
        ]

    # ------------------------------------------------------------------ orders
    def list_orders(
        self,
        integration: Integration,
        *,
        cursor: str | None,
        page_size: str | None,
        ids: str | None,
        statuses: str | None,
        created_after: str | None,
        open_only: bool = False,
    ) -> dict[str, Any]:
        size = parse_page_size(page_size)
        start = decode_cursor(cursor) if cursor else 0
        wanted_ids = {i for i in (ids or "").split(",") if i}
        wanted_statuses = {s for s in (statuses or "").split(",") if s}
        unknown = wanted_statuses - set(ORDER_STATUSES)
        if unknown:
            raise input_invalid(f"Unknown statuses: {', '.join(sorted(unknown))}.")
        if open_only:
            wanted_statuses = {"OPEN"}
        if created_after is not None and not is_kombo_timestamp(created_after):
            raise input_invalid(f"created_after must match {TIMESTAMP_PATTERN}.")
        after = normalise_timestamp(created_after) if created_after else None
        matching = [
            o
            for o in self.state.orders_of(integration.id)
            if o.seq > start
            and (not wanted_ids or o.id in wanted_ids)
            and (not wanted_statuses or o.status in wanted_statuses)
            and (after is None or normalise_timestamp(o.created_at) >= after)
        ]
        page = matching[:size]
        has_more = len(matching) > size
        return {
            "next": encode_cursor(page[-1].seq) if has_more else None,
            "results": [o.wire(with_status=not open_only) for o in page],
        }

    async def put_result(self, integration: Integration, order_id: str, raw: bytes) -> list[dict[str, str]]:
        order = self.state.orders.get(order_id)
        if order is None or order.integration_id != integration.id:
            raise self.not_found(f"No assessment order {order_id!r}.")
        body = decode(raw, ResultBody, reject_unknown=self.settings.reject_unknown_fields)
        check_result(body, self.settings.uri_pattern)
        final = body.status in (ResultStatus.COMPLETED, ResultStatus.CANCELLED)
        if order.status == "REJECTED":
            raise KomboApiError(
                self.settings.transition_error_status,
                "PLATFORM.INPUT_INVALID",
                "The order was rejected and cannot be updated.",
            )
        if order.status != "OPEN" and (body.status != order.status or not self.settings.allow_same_final_status):
            raise KomboApiError(
                self.settings.transition_error_status,
                "PLATFORM.INPUT_INVALID",
                f"The order's status is {order.status}; it can only change while OPEN.",
            )
        if final and self.settings.require_completed_at and body.completed_at is msgspec.UNSET:
            raise input_invalid(f"completed_at must be provided when status is {body.status}.")
        attachments = await fetch_attachments(self.settings, self.downloader, body)
        order.status = body.status.value
        order.result = body
        order.results.append(body)
        order.attachments = attachments
        await self.save()
        warnings = []
        if any(isinstance(a, SubResultAttribute) for a in body.attributes):
            warnings.append({"message": "Sub-results are shown as formatted text in this ATS."})
        return warnings

    # ------------------------------------------------------------------ connect and integrations
    async def create_link(self, raw: bytes, *, relink_of: str | None = None) -> str:
        token = secrets.token_urlsafe(24)
        if relink_of is not None:
            existing = self.integration(relink_of)
            decode(raw, Relink, reject_unknown=self.settings.reject_unknown_fields, empty_ok=True)
            link = ConnectLink(
                token=token,
                end_user_email=existing.creator_email or "",
                organization_name=existing.organization_name,
                origin_id=existing.origin_id,
                tool=existing.tool,
                relink_of=relink_of,
            )
        else:
            request = decode(raw, CreateLink, reject_unknown=self.settings.reject_unknown_fields)
            check_create_link(request, self.settings.email_pattern)
            if request.integration_category != "ASSESSMENT":
                raise input_invalid("The sandbox only offers the ASSESSMENT category.")
            tool = request.integration_tool if isinstance(request.integration_tool, str) else None
            if tool not in (None, "sandbox") and not self.settings.connect_any_tool:
                raise input_invalid(f"The sandbox connects only the sandbox tool, not {tool!r}.")
            link = ConnectLink(
                token=token,
                end_user_email=request.end_user_email,
                organization_name=request.end_user_organization_name,
                origin_id=request.end_user_origin_id if isinstance(request.end_user_origin_id, str) else None,
                tool=tool,
            )
        self.state.links[token] = link
        await self.save()
        return f"{self.settings.public_url.rstrip('/')}/_sandbox/connect?token={quote(token)}"

    async def complete_link(self, token: str) -> tuple[Integration, str]:
        """What the customer's click through Kombo Connect does: create (or repair) the integration."""
        link = self.state.links.get(token)
        if link is None:
            raise input_invalid("Unknown or expired connect link.")
        if link.relink_of is not None:
            integration = self.integration(link.relink_of)
            await self.set_state(integration, "ACTIVE")
        else:
            integration = await self.create_integration(
                organization_name=link.organization_name, creator_email=link.end_user_email, origin_id=link.origin_id
            )
        link.integration_id = integration.id
        link.exchange_token = secrets.token_urlsafe(24)
        self.state.links[link.exchange_token] = link
        await self.save()
        return integration, link.exchange_token

    async def create_integration(
        self, *, organization_name: str, origin_id: str | None = None, creator_email: str | None = None
    ) -> Integration:
        """A completed connection: the integration exists and ``integration-created`` is sent."""
        integration = self.state.add_integration(
            organization_name=organization_name, creator_email=creator_email, origin_id=origin_id
        )
        await self.save()
        await self.webhooks.send("integration-created", integration_event_data(integration))
        return integration

    def integration_by_token(self, token: str) -> dict[str, Any]:
        link = self.state.links.get(token)
        if link is None or link.exchange_token != token or link.integration_id is None:
            raise self.not_found("Unknown token.")
        integration = self.integration(link.integration_id)
        return {
            "tool": integration.tool,
            "id": integration.id,
            "end_user_origin_id": integration.origin_id,
            "end_user_organization_name": integration.organization_name,
            "end_user_email": integration.creator_email,
            "setup_status": integration.setup_status,
        }

    async def delete_integration(self, integration: Integration) -> None:
        del self.state.integrations[integration.id]
        await self.save()
        data = {**integration_event_data(integration), "deleted_at": now_iso()}
        await self.webhooks.send("integration-deleted", data)

    async def set_state(self, integration: Integration, state: str) -> None:
        if state not in {"ACTIVE", "INVALID", "INACTIVE"}:
            raise input_invalid("state must be ACTIVE, INVALID or INACTIVE")
        integration.status = state
        await self.save()
        await self.send_state_changed(integration)

    async def send_state_changed(self, integration: Integration) -> None:
        await self.webhooks.send(
            "integration-state-changed",
            {
                "integration_tool": integration.tool,
                "integration_id": integration.id,
                "integration_category": "ASSESSMENT",
                "end_user": {
                    "organization_name": integration.organization_name,
                    "creator_email": integration.creator_email,
                    "origin_id": integration.origin_id,
                },
                "qa_status": "PASSED",
                "setup_status": integration.setup_status,
                "state": integration.status,
                "updated_at": now_iso(),
            },
        )

    # ------------------------------------------------------------------ the ATS side
    async def place_order(
        self,
        integration: Integration,
        *,
        package_id: str,
        candidate: dict[str, Any],
        job: dict[str, Any] | None = None,
        inline: bool = False,
    ) -> OrderRecord:
        """What a recruiter's click in the ATS does: create the order, then send its webhook."""
        order = self.state.add_order(integration, package_id=package_id, candidate=candidate, job=job, inline=inline)
        await self.save()
        event = "inline-assessment:order-received" if inline else "assessment:order-received"
        await self.webhooks.send(event, order.wire(with_integration=True), order=order)
        await self.save()  # the reply may have rejected it or given it an inline URL
        return order

    async def reset(self) -> None:
        await self.webhooks.drain()
        self.state.reset()
        self.faults.clear()
        await self.save()
