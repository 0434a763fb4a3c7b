"""Schemathesis over our own OpenAPI document, in process: every route, with the admin token and with a
tenant key. No 5xx, and every answer (errors included) matches what the document declares.

Kombo is a real sandbox on loopback here, so routes that call it get real answers.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agtest import FUZZ_SCALE
from agtest.admission import UNLIMITED
from agtest.servers import free_port, serve
from api.app import create_app
from core.permissions import ALL_SCOPES
from core.settings import load_settings
from sandbox.app import create_sandbox_app
from sandbox.settings import SandboxSettings
from storage.database import Database
from storage.migrations import migrate
from tenants.repository import TenantRepository

ADMIN_TOKEN = "test-admin-token-0123456789"
SANDBOX_PORT = free_port()
DATA = Path(tempfile.mkdtemp(prefix="assessgate-contract-"))
SETTINGS = msgspec.structs.replace(
    load_settings(
        {
            "ASSESSGATE_DATABASE_URL": f"sqlite:///{DATA / 'contract.db'}",
            "ASSESSGATE_DATA_DIR": str(DATA),
            "ASSESSGATE_ADMIN_TOKEN": ADMIN_TOKEN,
            "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
            "ASSESSGATE_KOMBO_API_KEY": "contract-key",
            "ASSESSGATE_KOMBO_API_URL": f"http://127.0.0.1:{SANDBOX_PORT}/v1",
            "ASSESSGATE_LOG_LEVEL": "error",
            **UNLIMITED,
        }
    ),
    embedded_worker="off",
)


async def _prepare() -> str:
    db = Database(SETTINGS.database)
    await db.start()
    await migrate(db)
    tenant = await TenantRepository(db).create(name="Contract", external_id=None)
    _, key = await TenantRepository(db).create_api_key(tenant.id, "contract", ALL_SCOPES)
    await db.close()
    return key


TENANT_KEY = asyncio.run(_prepare())
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(SETTINGS))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module", autouse=True)
def kombo_sandbox() -> Iterator[None]:
    sandbox = SandboxSettings(api_key="contract-key", public_url=f"http://127.0.0.1:{SANDBOX_PORT}")
    with serve(create_sandbox_app(sandbox), SANDBOX_PORT):
        yield


@schema.parametrize()
@settings(max_examples=36 * FUZZ_SCALE, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_the_admin_token(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=18 * FUZZ_SCALE, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_a_tenant_key(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TENANT_KEY}"}, checks=CHECKS)
