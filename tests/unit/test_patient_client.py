"""The drills' and load generators' client (``bench/client.py``) behaves as a vendor's platform would: it waits out
503 and 429 as ``Retry-After`` says, retries transport errors when that cannot do a thing twice, gives up after
a bounded time, and counts all of it."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.client import PatientClient, figures, retry_after_s

pytestmark = pytest.mark.anyio
URL = "http://gateway.test/v1/tenants"


def scripted(answers: Sequence[httpx.Response | type[httpx.TransportError]]) -> tuple[httpx.MockTransport, list[str]]:
    """A transport answering from ``answers`` in order (an exception class is raised); records the methods sent."""
    sent: list[str] = []
    queue: Iterator[httpx.Response | type[httpx.TransportError]] = iter(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        answer = next(queue)
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("scripted", request=request)

    return httpx.MockTransport(handle), sent


def client(transport: httpx.MockTransport, waits: list[float], **options: Any) -> PatientClient:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    http = httpx.AsyncClient(transport=transport)
    return PatientClient(http, sleep=sleep, rng=random.Random(1), **options)


def unavailable(retry_after: str | None = "5", status: int = 503) -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers, json={"title": "Database unavailable"})


async def test_a_503_with_retry_after_is_waited_out_and_counted() -> None:
    transport, sent = scripted([unavailable(), unavailable(), httpx.Response(200, json={"items": []})])
    waits: list[float] = []
    patient = client(transport, waits)
    response = await patient.get(URL)
    assert (response.status_code, response.json()) == (200, {"items": []})
    assert sent == ["GET", "GET", "GET"]
    assert waits == [5, 5]
    assert dict(patient.tally) == {"503 Retry-After: 5": 2}


async def test_a_429_without_retry_after_backs_off_within_the_bound() -> None:
    transport, _ = scripted([unavailable(None, 429)] * 4 + [httpx.Response(200)])
    waits: list[float] = []
    patient = client(transport, waits, backoff_s=0.5, max_backoff_s=1.5)
    assert (await patient.get(URL)).status_code == 200
    assert len(waits) == 4
    assert all(0 <= w <= 1.5 for w in waits)
    assert patient.tally == {"429 no Retry-After": 4}


async def test_a_long_retry_after_is_capped() -> None:
    transport, _ = scripted([unavailable("3600"), httpx.Response(200)])
    waits: list[float] = []
    assert (await client(transport, waits, max_retry_after_s=30).get(URL)).status_code == 200
    assert waits == [30]


@pytest.mark.parametrize("error", [httpx.ReadError, httpx.ConnectError, httpx.RemoteProtocolError])
async def test_an_idempotent_request_is_retried_after_a_transport_error(error: type[httpx.TransportError]) -> None:
    transport, sent = scripted([error, httpx.Response(202)])
    waits: list[float] = []
    patient = client(transport, waits)
    assert (await patient.put(URL, json={"score": 1})).status_code == 202
    assert sent == ["PUT", "PUT"]
    assert patient.tally == {f"transport error ({error.__name__})": 1}


async def test_a_post_that_may_have_arrived_is_not_sent_twice() -> None:
    transport, sent = scripted([httpx.ReadTimeout, httpx.Response(201)])
    patient = client(transport, [])
    with pytest.raises(httpx.ReadTimeout):
        await patient.post(URL, json={"name": "T"})
    assert sent == ["POST"]
    assert patient.tally == {"transport error (ReadTimeout)": 1, "gave up": 1}


@pytest.mark.parametrize(
    ("error", "idempotent"), [(httpx.ConnectError, None), (httpx.ReadError, True)], ids=["never-sent", "event-id"]
)
async def test_a_post_is_retried_when_that_cannot_do_it_twice(
    error: type[httpx.TransportError], idempotent: bool | None
) -> None:
    transport, sent = scripted([error, httpx.Response(200)])
    patient = client(transport, [])
    assert (await patient.post(URL, content=b"{}", idempotent=idempotent)).status_code == 200
    assert sent == ["POST", "POST"]


async def test_after_the_bound_the_last_answer_is_returned_and_counted() -> None:
    transport, sent = scripted([unavailable()] * 3)
    patient = client(transport, [], give_up_after_s=0)
    assert (await patient.get(URL)).status_code == 503
    assert sent == ["GET"]
    assert patient.tally == {"503 Retry-After: 5": 1, "gave up": 1}
    assert figures(patient.tally) == "503 Retry-After: 5: 1, gave up: 1"


async def test_other_answers_are_the_callers_business() -> None:
    transport, sent = scripted([httpx.Response(500), httpx.Response(404)])
    patient = client(transport, [])
    assert [(await patient.get(URL)).status_code for _ in range(2)] == [500, 404]
    assert sent == ["GET", "GET"]
    assert figures(patient.tally) == "none"


def with_retry_after(value: str) -> httpx.Response:
    return httpx.Response(503, headers={"retry-after": value})


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_in_seconds(seconds: int) -> None:
    assert retry_after_s(with_retry_after(str(seconds))) == seconds


@given(st.integers(min_value=5, max_value=10**5))
def test_retry_after_as_an_http_date(seconds: int) -> None:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    waited = retry_after_s(with_retry_after(format_datetime(at, usegmt=True)))
    assert waited is not None
    assert seconds - 2 <= waited <= seconds


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_retry_after_never_raises_and_is_never_negative(value: str) -> None:
    waited = retry_after_s(with_retry_after(value))
    assert waited is None or waited >= 0


def test_a_missing_or_past_retry_after() -> None:
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert retry_after_s(httpx.Response(503)) is None
    assert retry_after_s(with_retry_after(past)) == 0
