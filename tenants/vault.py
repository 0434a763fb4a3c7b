"""Per-tenant secrets, encrypted at rest with a MultiFernet key ring and bound to their owner.

Fernet has no associated data, so a ciphertext copied into another tenant's row would still decrypt.
We encrypt an envelope ``{tenant_id, name, value}`` and check both on decrypt (a mismatch is a
CredentialError). ``key_id`` (a fingerprint of the encrypting key) is stored beside the ciphertext, so
rotation progress is a count of rows whose ``key_id`` is not the primary key's.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from typing import Final

import msgspec
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.clock import Clock, as_datetime, wall_clock_ms
from core.errors import CredentialError
from storage.database import Database


class _Envelope(msgspec.Struct, frozen=True):
    tenant_id: str
    name: str
    value: str


#: Every table holding vault ciphertexts (with a ``key_id`` column), and its key columns: ``keys rotate``
#: re-encrypts them all, so an old key can be dropped once nothing is pending.
ENCRYPTED_TABLES: Final = (("tenant_secret", ("tenant_id", "name")), ("candidate_data", ("id",)))


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:16]


class Vault:
    def __init__(self, db: Database, keys: Sequence[str], *, clock_ms: Clock = wall_clock_ms) -> None:
        self.clock_ms = clock_ms
        if not keys:
            raise CredentialError("no encryption keys configured (ASSESSGATE_SECRET_KEYS)")
        self.db = db
        self.ring = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        self.primary_key_id = key_id(keys[0])

    def encrypt(self, tenant_id: uuid.UUID, name: str, value: str) -> str:
        envelope = msgspec.json.encode(_Envelope(tenant_id=str(tenant_id), name=name, value=value))
        return self.ring.encrypt(envelope).decode("ascii")

    def decrypt(self, tenant_id: uuid.UUID, name: str, ciphertext: str) -> str:
        try:
            envelope = msgspec.json.decode(self.ring.decrypt(ciphertext.encode("ascii")), type=_Envelope)
        except (InvalidToken, msgspec.DecodeError, ValueError):
            raise CredentialError(f"secret {name!r} cannot be decrypted with the configured keys") from None
        if envelope.tenant_id != str(tenant_id) or envelope.name != name:
            raise CredentialError(f"secret {name!r} is bound to another tenant or name")
        return envelope.value

    async def put(self, tenant_id: uuid.UUID, name: str, value: str) -> None:
        ciphertext = self.encrypt(tenant_id, name, value)
        async with self.db.tx():
            await self.db.fetch(
                "INSERT INTO tenant_secret (tenant_id, name, ciphertext, key_id, updated_at)"
                " VALUES ({}, {}, {}, {}, {}) ON CONFLICT (tenant_id, name) DO UPDATE SET"
                " ciphertext = EXCLUDED.ciphertext, key_id = EXCLUDED.key_id, updated_at = EXCLUDED.updated_at",
                tenant_id,
                name,
                ciphertext,
                self.primary_key_id,
                as_datetime(self.clock_ms()),
            )

    async def get(self, tenant_id: uuid.UUID, name: str) -> str | None:
        rows = await self.db.fetch(
            "SELECT ciphertext FROM tenant_secret WHERE tenant_id = {} AND name = {}", tenant_id, name
        )
        return self.decrypt(tenant_id, name, rows[0]["ciphertext"]) if rows else None

    async def delete(self, tenant_id: uuid.UUID, name: str) -> bool:
        async with self.db.tx():
            rows = await self.db.fetch(
                "DELETE FROM tenant_secret WHERE tenant_id = {} AND name = {} RETURNING name", tenant_id, name
            )
        return bool(rows)

    async def names(self, tenant_id: uuid.UUID) -> list[str]:
        rows = await self.db.fetch("SELECT name FROM tenant_secret WHERE tenant_id = {} ORDER BY name", tenant_id)
        return [row["name"] for row in rows]

    async def pending_rotation(self) -> int:
        total = 0
        for table, _ in ENCRYPTED_TABLES:
            rows = await self.db.fetch(f"SELECT COUNT(*) AS n FROM {table} WHERE key_id <> {{}}", self.primary_key_id)
            total += int(rows[0]["n"])
        return total

    async def rotate(self, *, batch: int = 100, on_progress: Callable[[int], None] | None = None) -> int:
        """Re-encrypt every ciphertext not yet under the primary key (tenant secrets and candidate data);
        returns how many were rotated."""
        done = 0
        for table, keys in ENCRYPTED_TABLES:
            done += await self._rotate_table(table, keys, batch, on_progress)
        return done

    async def _rotate_table(
        self, table: str, keys: tuple[str, ...], batch: int, on_progress: Callable[[int], None] | None
    ) -> int:
        done = 0
        where = " AND ".join(f"{key} = {{}}" for key in keys)
        while True:
            rows = await self.db.fetch(
                f"SELECT {', '.join(keys)}, ciphertext FROM {table} WHERE key_id <> {{}} LIMIT {{}}",
                self.primary_key_id,
                batch,
            )
            if not rows:
                return done
            async with self.db.tx():
                for row in rows:
                    rotated = self.ring.rotate(str(row["ciphertext"]).encode("ascii")).decode("ascii")
                    await self.db.fetch(
                        f"UPDATE {table} SET ciphertext = {{}}, key_id = {{}} WHERE {where}",
                        rotated,
                        self.primary_key_id,
                        *(row[key] for key in keys),
                    )
            done += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
