"""Secrets at rest and in flight: encrypted and bound to their tenant, rotated, never shown or logged."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from litestar.testing import AsyncTestClient

from agtest.audit import dump
from api.app import create_app
from core.errors import CredentialError
from core.settings import Settings
from storage.database import Database
from tenants.vault import Vault

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
SECRET = "smtp-Pa55w0rd-which-must-never-leak"


async def test_no_secret_in_clear_in_database_responses_or_logs(
    db: Database, test_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses: list[str] = []
    async with AsyncTestClient(create_app(test_settings)) as client:
        tenant = (await client.post("/v1/tenants", json={"name": "T"}, headers=ADMIN)).json()["id"]
        scopes = {"scopes": ["secrets:write"]}
        key = (await client.post(f"/v1/tenants/{tenant}/api-keys", json=scopes, headers=ADMIN)).json()["key"]
        stored = await client.put(
            f"/v1/tenants/{tenant}/secrets/smtp_password",
            json={"value": SECRET},
            headers={"authorization": f"Bearer {key}"},
        )
        assert stored.status_code == 204
        for path in (
            f"/v1/tenants/{tenant}",
            f"/v1/tenants/{tenant}/secrets",
            f"/v1/tenants/{tenant}/api-keys",
            "/v1/tenants",
            "/metrics",
            "/v1/jobs",
        ):
            response = await client.get(path, headers=ADMIN)
            responses.append(response.text)
        names = (await client.get(f"/v1/tenants/{tenant}/secrets", headers=ADMIN)).json()
    assert names == {"names": ["smtp_password"]}
    vault = Vault(db, test_settings.secret_keys)
    assert await vault.get(uuid.UUID(tenant), "smtp_password") == SECRET  # adapters can read it ...
    everything = "\n".join([*responses, capsys.readouterr().out, await dump(db)])
    for value in (SECRET, key, test_settings.admin_token, *test_settings.secret_keys):  # ... nobody else sees it
        assert value not in everything


async def test_a_ciphertext_is_bound_to_its_tenant_and_name(db: Database, test_settings: Settings) -> None:
    vault = Vault(db, test_settings.secret_keys)
    a, b = uuid.uuid4(), uuid.uuid4()
    token = vault.encrypt(a, "api_key", "value-a")
    assert vault.decrypt(a, "api_key", token) == "value-a"
    with pytest.raises(CredentialError, match="bound to another"):
        vault.decrypt(b, "api_key", token)  # copied into another tenant's row
    with pytest.raises(CredentialError, match="bound to another"):
        vault.decrypt(a, "smtp_password", token)  # or under another name
    with pytest.raises(CredentialError, match="cannot be decrypted"):
        Vault(db, [Fernet.generate_key().decode()]).decrypt(a, "api_key", token)


async def test_rotation_reencrypts_everything_under_the_newest_key(db: Database, test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        tenants = [
            (await client.post("/v1/tenants", json={"name": f"T{n}"}, headers=ADMIN)).json()["id"] for n in range(3)
        ]
        for tenant in tenants:
            await client.put(f"/v1/tenants/{tenant}/secrets/s", json={"value": f"v-{tenant}"}, headers=ADMIN)
    old_key = test_settings.secret_keys[0]
    new_key = Fernet.generate_key().decode()
    ring = Vault(db, [new_key, old_key])
    assert await ring.pending_rotation() == 3
    progress: list[int] = []
    assert await ring.rotate(batch=2, on_progress=progress.append) == 3
    assert progress == [2, 1]
    assert await ring.pending_rotation() == 0
    only_new = Vault(db, [new_key])
    for tenant in tenants:
        assert await only_new.get(uuid.UUID(tenant), "s") == f"v-{tenant}"
    with pytest.raises(CredentialError):
        await Vault(db, [old_key]).get(uuid.UUID(tenants[0]), "s")
