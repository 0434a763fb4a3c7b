"""The guarded transport: checks each request and redirect after resolution, and connects to what it checked.

The inner transport is a mock (this is a unit test of one client): it records what would have been sent.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from adapters import outbound_guard
from adapters.outbound_guard import GuardedTransport
from core.outbound import OutboundPolicy, OutboundRefused

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self, redirect_to: str | None = None) -> None:
        self.sent: list[httpx.Request] = []
        self.redirect_to = redirect_to

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if self.redirect_to and len(self.sent) == 1:
            return httpx.Response(302, headers={"location": self.redirect_to})
        return httpx.Response(200, text="ok")


def client(recorder: Recorder, policy: OutboundPolicy | None = None) -> httpx.AsyncClient:
    transport = GuardedTransport(policy or OutboundPolicy(), inner=httpx.MockTransport(recorder))
    return httpx.AsyncClient(transport=transport, follow_redirects=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://localhost:8000/v1/jobs",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://10.1.2.3/",
        "http://0.0.0.0:22/",
        "http://no-such-host.invalid/",
    ],
)
async def test_internal_targets_are_refused_before_anything_is_sent(url: str) -> None:
    recorder = Recorder()
    async with client(recorder) as http:
        with pytest.raises(OutboundRefused, match="refused by the outbound policy"):
            await http.get(url)
    assert recorder.sent == []


async def test_a_redirect_to_an_internal_target_is_refused() -> None:
    recorder = Recorder(redirect_to="http://127.0.0.1:6379/")
    async with client(recorder) as http:
        with pytest.raises(OutboundRefused):
            await http.get("http://93.184.216.34/report.pdf")
    assert [str(r.url) for r in recorder.sent] == ["http://93.184.216.34/report.pdf"]


async def test_a_name_is_pinned_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[Any]:
        assert (host, port) == ("reports.vendor.example", 443)
        return [ipaddress.ip_address("93.184.216.34")]

    monkeypatch.setattr(outbound_guard, "_resolve", resolve)
    recorder = Recorder()
    async with client(recorder) as http:
        assert (await http.get("https://reports.vendor.example/r.pdf")).status_code == 200
    [sent] = recorder.sent
    assert sent.url.host == "93.184.216.34"
    assert sent.headers["host"] == "reports.vendor.example"
    assert sent.extensions["sni_hostname"] == "reports.vendor.example"


async def test_a_name_with_one_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[Any]:
        del host, port
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(outbound_guard, "_resolve", resolve)
    async with client(Recorder()) as http:
        with pytest.raises(OutboundRefused):
            await http.get("http://rebinding.example/")


async def test_the_allow_list_lets_the_operator_reach_internal_services() -> None:
    recorder = Recorder()
    policy = OutboundPolicy.parse(["127.0.0.0/8", "http://10.9.9.9:8080/hooks/"])
    async with client(recorder, policy) as http:
        assert (await http.get("http://127.0.0.1:9000/x")).status_code == 200
        assert (await http.post("http://10.9.9.9:8080/hooks/order")).status_code == 200
        with pytest.raises(OutboundRefused):
            await http.post("http://10.9.9.9:8080/admin")
    assert len(recorder.sent) == 2
