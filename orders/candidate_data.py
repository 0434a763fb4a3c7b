"""What candidates give us: redeemed links (single use) and form data, encrypted, bound to the tenant and
order, and purged after its retention period (the row stays, with field names only, as the audit trail)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from storage.database import Database
from tenants.vault import Vault


def _vault_name(order_id: uuid.UUID) -> str:
    return f"candidate_data:{order_id}"


class CandidateData:
    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault

    async def redeem(self, order_id: uuid.UUID, purpose: str, *, at: datetime) -> bool:
        """Record the first use of the (order, purpose) link; False when it was used before."""
        rows = await self.db.fetch(
            "INSERT INTO candidate_link_use (order_id, purpose, used_at) VALUES ({}, {}, {})"
            " ON CONFLICT (order_id, purpose) DO NOTHING RETURNING order_id",
            order_id,
            purpose,
            at,
        )
        return bool(rows)

    async def used(self, order_id: uuid.UUID, purpose: str) -> bool:
        rows = await self.db.fetch(
            "SELECT used_at FROM candidate_link_use WHERE order_id = {} AND purpose = {}", order_id, purpose
        )
        return bool(rows)

    async def store(
        self,
        submission_id: uuid.UUID,
        tenant_id: uuid.UUID,
        order_id: uuid.UUID,
        data: dict[str, Any],
        *,
        at: datetime,
        retention_days: int,
    ) -> None:
        ciphertext = self.vault.encrypt(tenant_id, _vault_name(order_id), msgspec.json.encode(data).decode())
        await self.db.fetch(
            "INSERT INTO candidate_data (id, order_id, tenant_id, ciphertext, key_id, field_names, submitted_at,"
            " purge_after, purged_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, NULL)",
            submission_id,
            order_id,
            tenant_id,
            ciphertext,
            self.vault.primary_key_id,
            ",".join(sorted(data)),
            at,
            at + timedelta(days=retention_days),
        )

    async def read(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> dict[str, Any] | None:
        rows = await self.db.fetch(
            "SELECT ciphertext FROM candidate_data WHERE order_id = {} AND tenant_id = {}", order_id, tenant_id
        )
        if not rows or rows[0]["ciphertext"] is None:
            return None
        plain = self.vault.decrypt(tenant_id, _vault_name(order_id), str(rows[0]["ciphertext"]))
        return dict(msgspec.json.decode(plain))

    async def purge(self, *, now: datetime) -> int:
        """Erase every submission past its retention period; returns how many."""
        at = now
        rows = await self.db.fetch(
            "UPDATE candidate_data SET ciphertext = NULL, key_id = NULL, purged_at = {}"
            " WHERE purge_after <= {} AND purged_at IS NULL RETURNING id",
            at,
            at,
        )
        if rows:
            await self.db.scrub()  # no erased answer left behind in SQLite's write-ahead log
        return len(rows)
