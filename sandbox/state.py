"""The sandbox's world: integrations, connect links, package catalogs, orders and webhook deliveries.

Kept in memory, guarded by one asyncio lock per mutation (the app is single-process). Orders are kept in
creation order, which is what the list endpoint pages through.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from core.kombo import ResultBody, format_timestamp
from sandbox.kombo_ids import integration_id, new_id


def now_iso() -> str:
    return format_timestamp(datetime.now(UTC))


@dataclass
class Integration:
    id: str
    tool: str
    organization_name: str
    creator_email: str | None
    origin_id: str | None
    status: str = "ACTIVE"  # ACTIVE | INVALID | INACTIVE
    #: While disabled through ``PUT /integrations/{id}/enabled``: the status to return to when enabled again
    #: (a disabled integration whose credentials were broken is still broken afterwards).
    status_before_disabled: str | None = None
    setup_status: str = "COMPLETED"
    created_at: str = field(default_factory=now_iso)


@dataclass
class PackageRecord:
    id: str
    type: str | None
    name: str
    description: str
    updated_at: str | None
    deleted: bool = False


@dataclass
class Attachment:
    name: str
    content_type: str | None
    source: str  # "data" or "data_url"
    size: int
    sha256: str
    error: str | None = None


@dataclass
class OrderRecord:
    seq: int
    id: str
    integration_id: str
    package_id: str
    candidate: dict[str, Any]
    application: dict[str, Any]
    job: dict[str, Any]
    inline: bool
    created_at: str
    status: str = "OPEN"
    rejection_message: str | None = None
    assessment_url: str | None = None
    result: ResultBody | None = None
    results: list[ResultBody] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    webhook_outcome: str | None = None

    def wire(self, *, with_status: bool = True, with_integration: bool = False) -> dict[str, Any]:
        """The order exactly as Kombo emits it (all keys present, explicit nulls)."""
        data: dict[str, Any] = {"id": self.id, "package_id": self.package_id}
        if with_status:
            data["status"] = self.status
        if with_integration:
            data["integration_id"] = self.integration_id
        data.update(candidate=self.candidate, application=self.application, job=self.job)
        return data


@dataclass
class ConnectLink:
    token: str
    end_user_email: str
    organization_name: str
    origin_id: str | None
    tool: str | None
    relink_of: str | None = None
    exchange_token: str | None = None
    integration_id: str | None = None


@dataclass
class Delivery:
    seq: int
    event_id: str
    event_type: str
    order_id: str | None
    outcome: str  # "delivered" | "rejected" | "failed" | "dropped" | "pending" | "retrying"
    status: int | None = None
    reply: str | None = None
    at: str = field(default_factory=now_iso)


class Snapshot(msgspec.Struct, kw_only=True):
    integrations: list[Integration]
    packages: dict[str, dict[str, PackageRecord]]
    orders: list[OrderRecord]
    links: list[ConnectLink]
    deliveries: list[Delivery]
    seq: int


class SandboxState:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.integrations: dict[str, Integration] = {}
        self.packages: dict[str, dict[str, PackageRecord]] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.links: dict[str, ConnectLink] = {}
        self.deliveries: list[Delivery] = []
        self._seq = itertools.count(1)
        self.last_seq = 0

    def next_seq(self) -> int:
        self.last_seq = next(self._seq)
        return self.last_seq

    def snapshot(self) -> bytes:
        return msgspec.json.encode(
            Snapshot(
                integrations=list(self.integrations.values()),
                packages=self.packages,
                orders=list(self.orders.values()),
                links=list(self.links.values()),
                deliveries=self.deliveries,
                seq=self.last_seq,
            )
        )

    def restore(self, raw: bytes) -> None:
        snap = msgspec.json.decode(raw, type=Snapshot)
        self.integrations = {i.id: i for i in snap.integrations}
        self.packages = snap.packages
        self.orders = {o.id: o for o in snap.orders}
        self.links = {link.token: link for link in snap.links}
        for link in snap.links:
            if link.exchange_token:
                self.links[link.exchange_token] = link
        self.deliveries = snap.deliveries
        self.last_seq = snap.seq
        self._seq = itertools.count(snap.seq + 1)

    def reset(self) -> None:
        self.integrations.clear()
        self.packages.clear()
        self.orders.clear()
        self.links.clear()
        self.deliveries.clear()

    def add_integration(
        self,
        *,
        organization_name: str,
        creator_email: str | None = None,
        origin_id: str | None = None,
        tool: str = "sandbox",
    ) -> Integration:
        integration = Integration(
            id=integration_id(tool),
            tool=tool,
            organization_name=organization_name,
            creator_email=creator_email,
            origin_id=origin_id,
        )
        self.integrations[integration.id] = integration
        self.packages[integration.id] = {}
        return integration

    def add_order(
        self,
        integration: Integration,
        *,
        package_id: str,
        candidate: dict[str, Any],
        job: dict[str, Any] | None = None,
        application_remote_id: str | None = None,
        inline: bool = False,
    ) -> OrderRecord:
        order = OrderRecord(
            seq=self.next_seq(),
            id=new_id(),
            integration_id=integration.id,
            package_id=package_id,
            candidate={
                "remote_id": candidate.get("remote_id"),
                "email": candidate["email"],
                "first_name": candidate.get("first_name"),
                "last_name": candidate.get("last_name"),
                "phone": candidate.get("phone"),
            },
            application={"remote_id": application_remote_id},
            job={
                "remote_id": None,
                "name": None,
                "job_code": None,
                "description": None,
                "location": None,
                "hiring_team": [],
                **(job or {}),
            },
            inline=inline,
            created_at=now_iso(),
        )
        self.orders[order.id] = order
        return order

    def orders_of(self, integration_id: str) -> list[OrderRecord]:
        return sorted((o for o in self.orders.values() if o.integration_id == integration_id), key=lambda o: o.seq)
