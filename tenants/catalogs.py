"""Package catalogs: the vendor's list, each tenant's selection from it (with overrides), what Kombo last
accepted, and the push.

A tenant's catalog is stored as its entries (vendor package ids, optional name/description overrides, or
packages of its own) and resolved against the vendor's list whenever it is shown or pushed, so a change
to the vendor's list reaches every tenant that offers the package. Setting either catalog enqueues the
``catalog.push`` jobs in the same transaction. A push sends the tenant's current resolved catalog
(replace-all), so a newer change simply supersedes an older queued one.
"""

from __future__ import annotations

import uuid

import msgspec

from core.catalog import (
    CatalogDiff,
    CatalogPackage,
    SyncState,
    TenantPackage,
    deletion_refused,
    diff,
    resolve,
    validate_catalog,
)
from core.clock import Clock, as_datetime, wall_clock_ms
from core.errors import Conflict, ValidationFailed
from core.kombo import KomboWarning
from jobs.outbox import Outbox
from storage.database import Database
from tenants.catalog_push import enqueue_push

_PACKAGES = msgspec.json.Decoder(list[CatalogPackage])
_ENTRIES = msgspec.json.Decoder(list[TenantPackage])
_WARNINGS = msgspec.json.Decoder(list[KomboWarning])


class VendorCatalogView(msgspec.Struct, kw_only=True):
    packages: list[CatalogPackage]
    version: int


class CatalogView(msgspec.Struct, kw_only=True):
    #: What the tenant offers: its entries resolved against the vendor's catalog.
    packages: list[CatalogPackage]
    #: The tenant's entries as set (vendor ids, overrides, own packages).
    selection: list[TenantPackage]
    version: int
    sync_state: SyncState
    accepted_version: int | None
    diff: CatalogDiff
    warnings: list[KomboWarning]
    last_error: str | None


class CatalogPreview(msgspec.Struct, kw_only=True):
    diff: CatalogDiff
    #: How many packages the ATS offers now (what Kombo last accepted).
    live_count: int
    #: The change deletes more than the guard allows: it needs ``confirm_deletions``.
    needs_confirmation: bool


class _Row(msgspec.Struct, kw_only=True):
    desired: str
    accepted: str | None
    version: int
    accepted_version: int | None
    sync_state: str
    last_error: str | None
    warnings: str | None


class Catalogs:
    def __init__(self, db: Database, *, max_deletion_share: float, clock_ms: Clock = wall_clock_ms) -> None:
        self.clock_ms = clock_ms
        self.db = db
        self.outbox = Outbox(db)
        self.max_deletion_share = max_deletion_share

    async def set_desired(
        self, tenant_id: uuid.UUID, entries: list[TenantPackage], *, confirm_deletions: bool, now_ms: int
    ) -> CatalogView:
        async with self.db.tx():
            packages = resolve(entries, await self.vendor_packages())
            row = await self._row(tenant_id)
            accepted = _PACKAGES.decode(row.accepted) if row and row.accepted else []
            change = diff(packages, accepted)
            if not confirm_deletions and deletion_refused(change, len(accepted), self.max_deletion_share):
                raise Conflict(
                    f"this would delete {len(change.removed)} of the {len(accepted)} packages the ATS offers; "
                    'send "confirm_deletions": true to do it'
                )
            version = (row.version if row else 0) + 1
            encoded = msgspec.json.encode(entries).decode()
            if row is None:
                await self.db.fetch(
                    "INSERT INTO tenant_catalog (tenant_id, desired, version, sync_state, updated_at)"
                    " VALUES ({}, {}, {}, 'pending', {})",
                    tenant_id,
                    encoded,
                    version,
                    as_datetime(self.clock_ms()),
                )
            else:
                await self.db.fetch(
                    "UPDATE tenant_catalog SET desired = {}, version = {}, sync_state = 'pending', updated_at = {}"
                    " WHERE tenant_id = {}",
                    encoded,
                    version,
                    as_datetime(self.clock_ms()),
                    tenant_id,
                )
            await enqueue_push(self.outbox, tenant_id, version, f"catalog:{tenant_id}:{version}", now_ms)
        return await self.view(tenant_id)

    async def preview(self, tenant_id: uuid.UUID, entries: list[TenantPackage]) -> CatalogPreview:
        """What setting ``entries`` would change against what Kombo accepted, and whether the deletion guard would
        refuse it without ``confirm_deletions`` (nothing is written)."""
        packages = resolve(entries, await self.vendor_packages())
        row = await self._row(tenant_id)
        accepted = _PACKAGES.decode(row.accepted) if row and row.accepted else []
        change = diff(packages, accepted)
        refused = deletion_refused(change, len(accepted), self.max_deletion_share)
        return CatalogPreview(diff=change, live_count=len(accepted), needs_confirmation=refused)

    async def vendor(self) -> VendorCatalogView:
        rows = await self.db.fetch("SELECT packages, version FROM vendor_catalog WHERE id = 1")
        if not rows:
            return VendorCatalogView(packages=[], version=0)
        return VendorCatalogView(packages=_PACKAGES.decode(rows[0]["packages"]), version=int(rows[0]["version"]))

    async def vendor_packages(self) -> list[CatalogPackage]:
        return (await self.vendor()).packages

    async def set_vendor(self, packages: list[CatalogPackage], *, now_ms: int) -> VendorCatalogView:
        """Replace the vendor's list; every tenant with a catalog gets a push. Refused (409) when a tenant
        would lose a package it offers by id only (it must first drop it or give the package in full)."""
        validate_catalog(packages)
        async with self.db.tx():
            current = await self.vendor()
            version = current.version + 1
            affected: list[tuple[uuid.UUID, int]] = []
            broken: list[str] = []
            for tenant_id in await self.tenants_with_catalogs():
                row = await self._row(tenant_id)
                assert row is not None
                try:
                    resolve(_ENTRIES.decode(row.desired), packages)
                except ValidationFailed:
                    broken.append(str(tenant_id))
                affected.append((tenant_id, row.version))
            if broken:
                raise Conflict(
                    "these tenants offer packages the new list drops; change their catalogs first: " + ", ".join(broken)
                )
            encoded = msgspec.json.encode(packages).decode()
            if current.version == 0:
                await self.db.fetch(
                    "INSERT INTO vendor_catalog (id, packages, version, updated_at) VALUES (1, {}, {}, {})",
                    encoded,
                    version,
                    as_datetime(self.clock_ms()),
                )
            else:
                await self.db.fetch(
                    "UPDATE vendor_catalog SET packages = {}, version = {}, updated_at = {} WHERE id = 1",
                    encoded,
                    version,
                    as_datetime(self.clock_ms()),
                )
            for tenant_id, tenant_version in affected:
                await enqueue_push(
                    self.outbox, tenant_id, tenant_version, f"catalog:{tenant_id}:vendor:{version}", now_ms
                )
        return await self.vendor()

    async def view(self, tenant_id: uuid.UUID) -> CatalogView:
        row = await self._row(tenant_id)
        if row is None:
            return CatalogView(
                packages=[],
                selection=[],
                version=0,
                sync_state=SyncState.EMPTY,
                accepted_version=None,
                diff=CatalogDiff(added=[], changed=[], removed=[]),
                warnings=[],
                last_error=None,
            )
        selection = _ENTRIES.decode(row.desired)
        desired = resolve(selection, await self.vendor_packages())
        accepted = _PACKAGES.decode(row.accepted) if row.accepted else []
        return CatalogView(
            packages=desired,
            selection=selection,
            version=row.version,
            sync_state=SyncState(str(row.sync_state)),
            accepted_version=row.accepted_version,
            diff=diff(desired, accepted),
            warnings=_WARNINGS.decode(row.warnings) if row.warnings else [],
            last_error=row.last_error,
        )

    async def desired(self, tenant_id: uuid.UUID) -> tuple[int, list[CatalogPackage]] | None:
        row = await self._row(tenant_id)
        if row is None:
            return None
        return row.version, resolve(_ENTRIES.decode(row.desired), await self.vendor_packages())

    async def tenants_with_catalogs(self) -> list[uuid.UUID]:
        rows = await self.db.fetch(
            "SELECT c.tenant_id AS tenant_id FROM tenant_catalog c JOIN tenant t ON t.id = c.tenant_id"
            " WHERE t.deleted_at IS NULL ORDER BY t.created_at"
        )
        return [uuid.UUID(str(row["tenant_id"])) for row in rows]

    async def record_pushed(
        self, tenant_id: uuid.UUID, version: int, packages: list[CatalogPackage], warnings: tuple[KomboWarning, ...]
    ) -> None:
        async with self.db.tx():
            row = await self._row(tenant_id)
            if row is None or (row.accepted_version is not None and row.accepted_version > version):
                return  # a newer push already landed
            state = SyncState.IN_SYNC if row.version == version else SyncState.PENDING
            await self.db.fetch(
                "UPDATE tenant_catalog SET accepted = {}, accepted_version = {}, sync_state = {}, warnings = {},"
                " last_error = NULL, updated_at = {} WHERE tenant_id = {}",
                msgspec.json.encode(packages).decode(),
                version,
                state,
                msgspec.json.encode(list(warnings)).decode(),
                as_datetime(self.clock_ms()),
                tenant_id,
            )

    async def record_failure(self, tenant_id: uuid.UUID, error: str, *, final: bool) -> None:
        async with self.db.tx():
            await self.db.fetch(
                "UPDATE tenant_catalog SET last_error = {}, sync_state = {}, updated_at = {} WHERE tenant_id = {}",
                error,
                SyncState.FAILED if final else SyncState.PENDING,
                as_datetime(self.clock_ms()),
                tenant_id,
            )

    async def _row(self, tenant_id: uuid.UUID) -> _Row | None:
        rows = await self.db.fetch(
            "SELECT desired, accepted, version, accepted_version, sync_state, last_error, warnings"
            " FROM tenant_catalog WHERE tenant_id = {}",
            tenant_id,
        )
        return msgspec.convert(rows[0], _Row) if rows else None
