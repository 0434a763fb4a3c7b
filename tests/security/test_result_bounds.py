"""Finding 12: ``score > max_score``, negative scores, ``1e308``, a 1 MB ``result_url``, ``"http://"`` without a
host, 10,000 attributes and huge ``remote_fields`` were all accepted (202) and sent to Kombo.

Now what Kombo's contract states (a URI, finite doubles, its ``remote_fields`` shapes, ``score.max >= 1``, at
most 5 attachments) and our documented limits where it is silent (``ASSESSGATE_RESULT_*``) are each a 422
naming the field, and nothing is stored or queued for such a body. On both engines.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from agtest import FIXTURES
from agtest.sandbox_support import API_KEY, SandboxHandle
from api.app import create_app
from core.errors import ConfigError
from core.kombo import signature
from core.result_bounds import ResultLimits
from core.result_rules import validate_submission
from core.settings import KomboSettings, Settings, load_settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
VALID: dict[str, Any] = {
    "status": "COMPLETED",
    "result_url": "https://tests.vendor.example/reports/1",
    "completed_at": "2026-07-23T15:42:10.000Z",
    "score": 78.5,
    "max_score": 100,
}
LIMITS = ResultLimits()


def sub_result(value: float, top: float) -> dict[str, Any]:
    return {
        "type": "SUB_RESULT",
        "id": "s1",
        "label": "Java",
        "score": {"value": value, "max": top},
        "status": "COMPLETED",
    }


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "score above max_score": ({"score": 120, "max_score": 100}, "$.score"),
    "negative score": ({"score": -5, "max_score": 100}, "$.score"),
    "1e308 score": ({"score": 1e308, "max_score": 100}, "$.score"),
    "1e308 max_score": ({"score": 1, "max_score": 1e308}, "$.max_score"),
    "1 MB result_url": ({"result_url": "https://x.example/" + "a" * 1_000_000}, "$.result_url"),
    "http:// without a host": ({"result_url": "http://"}, "$.result_url"),
    "https:///path without a host": ({"result_url": "https:///reports/1"}, "$.result_url"),
    "a space in result_url": ({"result_url": "https://x.example/a b"}, "$.result_url"),
    "10,000 attributes": ({"attributes": [{"type": "TEXT", "label": "l", "value": "v"}] * 10_000}, "$.attributes"),
    "a 5,000-character label": (
        {"attributes": [{"type": "TEXT", "label": "l" * 5000, "value": "v"}]},
        "$.attributes[0].label",
    ),
    "a sub-result above its max": ({"attributes": [sub_result(11, 10)]}, "$.attributes[0].score.value"),
    "a negative sub-result": ({"attributes": [sub_result(-1, 10)]}, "$.attributes[0].score.value"),
    "a sub-result max of 1e308": ({"attributes": [sub_result(1, 1e308)]}, "$.attributes[0].score.max"),
    "200 KB of remote_fields": ({"remote_fields": {"recruitee": {"subtitle": "s" * 200_000}}}, "$.remote_fields"),
    "a non-ASCII content type": (
        {"attachments": [{"name": "r.pdf", "content_type": "applicätion/pdf", "data_url": "https://x.example/r.pdf"}]},
        "$.attachments[0].content_type",
    ),
    "octet-stream, which Kombo asks not to be sent": (
        {"attachments": [{"name": "r", "content_type": "application/octet-stream", "data": "UEsDBA=="}]},
        "$.attachments[0].content_type",
    ),
    "remote_fields of the wrong shape": (
        {"remote_fields": {"smartrecruiters": {"scoreLabel": 5}}},
        "$.remote_fields.smartrecruiters.scoreLabel",
    ),
}


class World(msgspec.Struct):
    client: AsyncTestClient[Any]
    tenant: str
    order: str


async def make_world(db: Database, settings: Settings, sandbox: SandboxHandle) -> AsyncIterator[World]:
    del db
    kombo = KomboSettings(api_url=sandbox.api_url, api_key=API_KEY, webhook_secrets=("whsec-x",))
    app = create_app(msgspec.structs.replace(settings, kombo=kombo, embedded_worker="off"))
    async with AsyncTestClient(app) as client:
        tenant = (await client.post("/v1/tenants", json={"name": "A"}, headers=ADMIN)).json()["id"]
        integration = sandbox.new_integration(origin_id=tenant)
        bound = await client.put(
            f"/v1/tenants/{tenant}/integration", json={"integration_id": integration}, headers=ADMIN
        )
        assert bound.status_code == 200, bound.text
        packages = [{"id": "p", "type": "SKILLS_TEST", "name": "P", "description": ""}]
        await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": packages}, headers=ADMIN)
        body = json.loads((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_text())
        body["data"].update(integration_id=integration, package_id="p")
        raw = json.dumps(body).encode()
        headers = {"content-type": "application/json", "x-kombo-signature": signature.sign("whsec-x", raw)}
        assert (await client.post("/kombo/webhooks", content=raw, headers=headers)).status_code == 200
        [order] = (await client.get(f"/v1/tenants/{tenant}/orders", headers=ADMIN)).json()["items"]
        assert order["status"] == "accepted"
        yield World(client=client, tenant=tenant, order=order["id"])


@pytest.fixture
async def world(db: Database, test_settings: Settings, sandbox: SandboxHandle) -> AsyncIterator[World]:
    async for made in make_world(db, test_settings, sandbox):
        yield made


async def put_result(world: World, body: dict[str, Any]) -> Any:
    url = f"/v1/tenants/{world.tenant}/orders/{world.order}/result"
    return await world.client.put(url, json=body, headers=ADMIN)


async def stored_results(db: Database) -> int:
    return int((await db.fetch("SELECT COUNT(*) AS n FROM order_result"))[0]["n"])


async def test_hostile_results_are_422_naming_the_field_and_nothing_is_queued(world: World, db: Database) -> None:
    for case, (changes, path) in HOSTILE.items():
        response = await put_result(world, {**VALID, **changes})
        assert response.status_code == 422, (case, response.text[:300])
        assert response.headers["content-type"].startswith("application/problem+json")
        paths = [e["path"] for e in response.json()["errors"]]
        assert path in paths, (case, paths)
    assert await stored_results(db) == 0
    assert (await db.fetch("SELECT COUNT(*) AS n FROM outbox_job WHERE kind = 'result.write_back'"))[0]["n"] == 0


async def test_a_result_at_every_limit_is_still_taken(world: World, db: Database) -> None:
    body = {
        **VALID,
        "result_url": "https://x.example/" + "a" * (LIMITS.max_url_length - len("https://x.example/")),
        "score": LIMITS.score_max,
        "max_score": LIMITS.score_max,
        "attributes": [
            *[{"type": "TEXT", "label": "l" * LIMITS.max_text_length, "value": "v"}] * (LIMITS.max_attributes - 1),
            sub_result(0, 1),
        ],
        "remote_fields": {"smartrecruiters": {"scoreLabel": "78.5 / 100"}},
    }
    response = await put_result(world, body)
    assert response.status_code == 202, response.text[:500]
    assert await stored_results(db) == 1


@pytest.fixture
async def lenient_world(db: Database, test_settings: Settings, sandbox: SandboxHandle) -> AsyncIterator[World]:
    limits = ResultLimits(score_min=-100, score_max=1e12)
    async for made in make_world(db, msgspec.structs.replace(test_settings, results=limits), sandbox):
        yield made


async def test_an_integer_too_large_for_a_float_is_a_422_not_a_500(world: World) -> None:
    body = msgspec.json.encode({**VALID, "score": 1, "max_score": 100}).replace(b'"score":1', b'"score":1' + b"0" * 400)
    response = await world.client.put(
        f"/v1/tenants/{world.tenant}/orders/{world.order}/result",
        content=body,
        headers={**ADMIN, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == "$.score"


async def test_the_score_bounds_are_settings(lenient_world: World) -> None:
    response = await put_result(lenient_world, {**VALID, "score": -5, "max_score": 1e11})
    assert response.status_code == 202, response.text
    too_high = await put_result(lenient_world, {**VALID, "score": 1, "max_score": 1e13})
    assert too_high.status_code == 422


#: Integers far beyond a float's range too: JSON may carry them, and 10**400 once made the check itself fail (500).
NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=False, allow_infinity=False),
)


@given(score=NUMBERS, top=NUMBERS)
def test_an_accepted_score_is_within_bounds_and_its_maximum(score: float, top: float) -> None:
    errors = validate_submission({**VALID, "score": score, "max_score": top})
    if not errors:
        assert LIMITS.score_min <= score <= top <= LIMITS.score_max
    else:
        assert {e.path for e in errors} <= {"$.score", "$.max_score"}


@given(url=st.text(max_size=60))
def test_an_accepted_result_url_is_http_with_a_host(url: str) -> None:
    from urllib.parse import urlsplit

    if not [e for e in validate_submission({**VALID, "result_url": url}) if e.path == "$.result_url"]:
        parts = urlsplit(url)
        assert parts.scheme in {"http", "https"}
        assert parts.hostname


def test_the_limits_are_read_from_their_variables_and_checked() -> None:
    settings = load_settings({"ASSESSGATE_RESULT_SCORE_MIN": "-10", "ASSESSGATE_RESULT_MAX_ATTRIBUTES": "7"})
    assert (settings.results.score_min, settings.results.max_attributes) == (-10, 7)
    with pytest.raises(ConfigError, match="ASSESSGATE_RESULT_SCORE_MIN"):
        load_settings({"ASSESSGATE_RESULT_SCORE_MIN": "5", "ASSESSGATE_RESULT_SCORE_MAX": "5"})
    with pytest.raises(ConfigError, match="ASSESSGATE_RESULT_SCORE_MAX"):
        load_settings({"ASSESSGATE_RESULT_SCORE_MAX": "inf"})
    with pytest.raises(ConfigError, match="ASSESSGATE_RESULT_MAX_REMOTE_FIELDS_BYTES"):
        load_settings({"ASSESSGATE_RESULT_MAX_REMOTE_FIELDS_BYTES": "0"})
