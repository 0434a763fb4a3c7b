"""Webhook fuzzing against the ingress: valid, mutated, truncated, huge, deeply nested, non-UTF-8 and
duplicate-key bodies, each correctly or wrongly signed. Every answer is a documented one, and afterwards the
stored orders are exactly those the valid, correctly signed order events imply: nothing more, nothing less."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from agtest import FIXTURES, FUZZ_SCALE
from api.app import create_app
from core.kombo import signature
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
SECRET = "whsec-current-secret"
DOCUMENTED = {200, 400, 401, 413, 422, 503}
TEMPLATE = json.loads((FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_text())


@pytest.fixture
async def client(db: Database, test_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    settings_small = msgspec.structs.replace(test_settings, embedded_worker="off", max_body_bytes=64 * 1024)
    async with AsyncTestClient(create_app(settings_small)) as test_client:
        yield test_client


def order_event() -> tuple[dict[str, Any], str]:
    body = json.loads(json.dumps(TEMPLATE))
    body["id"], body["data"]["id"] = uuid.uuid4().hex, uuid.uuid4().hex
    return body, body["data"]["id"]


class Delivery(msgspec.Struct):
    raw: bytes
    kombo_id: str | None  # the order a valid, correctly signed delivery must store
    sign_with: str | None  # None: no signature header


def deliveries() -> st.SearchStrategy[Delivery]:
    def build(kind: str, signing: str, cut: float, depth: int, junk: bytes) -> Delivery:
        body, kombo_id = order_event()
        implied: str | None = kombo_id
        raw = json.dumps(body).encode()
        if kind == "mutated":  # a field of the wrong type: refused
            body["data"]["candidate"]["email"] = 42
            raw, implied = json.dumps(body).encode(), None
        elif kind == "missing":
            del body["data"]["integration_id"]
            raw, implied = json.dumps(body).encode(), None
        elif kind == "truncated":
            raw, implied = raw[: max(1, int(len(raw) * cut))], None
        elif kind == "huge":  # over the body limit
            body["data"]["padding"] = "x" * (70 * 1024)
            raw, implied = json.dumps(body).encode(), None
        elif kind == "nested":
            raw, implied = ("[" * depth + "]" * depth).encode(), None
        elif kind == "non_utf8":
            raw, implied = raw[:20] + b"\xff\xfe" + junk + raw[20:], None
        elif kind == "duplicate_keys":  # the same key twice: the last one counts, as in JSON parsers generally
            other, last_id = order_event()
            raw = raw[:-1] + b', "data": ' + json.dumps(other["data"]).encode() + b"}"
            implied = last_id
        sign_with = {"right": SECRET, "wrong": "whsec-not-ours", "none": None}[signing]
        return Delivery(raw=raw, kombo_id=implied if signing == "right" else None, sign_with=sign_with)

    return st.builds(
        build,
        st.sampled_from(["valid", "mutated", "missing", "truncated", "huge", "nested", "non_utf8", "duplicate_keys"]),
        st.sampled_from(["right", "right", "wrong", "none"]),
        st.floats(0.05, 0.95),
        st.integers(1, 5000),
        st.binary(max_size=20),
    )


@settings(max_examples=25 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(deliveries(), min_size=1, max_size=8))
async def test_only_valid_signed_orders_are_stored_and_every_answer_is_documented(
    client: AsyncTestClient[Any], db: Database, batch: list[Delivery]
) -> None:
    for delivery in batch:
        headers = {"content-type": "application/json"}
        if delivery.sign_with is not None:
            headers["x-kombo-signature"] = signature.sign(delivery.sign_with, delivery.raw)
        response = await client.post("/kombo/webhooks", content=delivery.raw, headers=headers)
        assert response.status_code in DOCUMENTED, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
        if delivery.sign_with != SECRET:
            assert response.status_code in {401, 413}  # verified before anything is parsed (or too big to read)
    mentioned = [d.kombo_id for d in batch if d.kombo_id]
    candidates = {json.loads(d.raw)["data"]["id"] for d in batch if _parses(d.raw)} | set(mentioned)
    stored = {
        r["kombo_order_id"]
        for r in await db.fetch("SELECT kombo_order_id FROM assessment_order")
        if r["kombo_order_id"] in candidates
    }
    assert stored == set(mentioned)


def _parses(raw: bytes) -> bool:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and isinstance(value.get("data"), dict) and "id" in value["data"]
