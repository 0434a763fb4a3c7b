"""The outbound policy: which addresses and URLs a request to a tenant-supplied URL may reach."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.outbound import OutboundPolicy, is_public, valid_url

FORBIDDEN = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
]


@st.composite
def forbidden_addresses(draw: st.DrawFn) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    network = ipaddress.ip_network(draw(st.sampled_from(FORBIDDEN)))
    offset = draw(st.integers(min_value=0, max_value=network.num_addresses - 1))
    return network.network_address + offset


@given(forbidden_addresses())
def test_internal_addresses_are_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assert not is_public(address)
    assert not OutboundPolicy().admits_address(address)
    if isinstance(address, ipaddress.IPv4Address):  # the same address written as IPv4-mapped IPv6
        assert not is_public(ipaddress.IPv6Address(f"::ffff:{address}"))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_the_allow_list_admits_its_networks_and_prefixes_only() -> None:
    policy = OutboundPolicy.parse(["10.20.0.0/16", "http://screening.internal:8080/hooks/"])
    assert policy.admits_address(ipaddress.ip_address("10.20.3.4"))
    assert not policy.admits_address(ipaddress.ip_address("10.21.0.1"))
    assert not policy.admits_address(ipaddress.ip_address("169.254.169.254"))
    assert policy.admits_url("http://screening.internal:8080/hooks/a")
    assert not policy.admits_url("http://screening.internal:8080/admin")
    for climbing in ("/hooks/../admin", "/hooks/%2e%2e/admin", "/hooks/%2E%2E/admin", "/hooks/..%2fadmin"):
        assert not policy.admits_url(f"http://screening.internal:8080{climbing}")


@pytest.mark.parametrize("entry", ["nonsense", "ftp://x.example/", "http://", "10.0.0.0/33"])
def test_a_bad_allow_list_entry_is_named(entry: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(entry))):
        OutboundPolicy.parse([entry])


@given(st.text(max_size=40))
def test_only_http_urls_with_a_host_are_valid(text: str) -> None:
    for url in (text, f"http://{text}", f"httpx://{text}"):
        if valid_url(url):
            assert url.startswith(("http://", "https://"))
            assert len(url) > len("https://") - 1


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://vendor.example/r", True),
        ("http://10.0.0.1:8080/x", True),
        ("http://", False),
        ("httpx://x.example", False),
        ("file:///etc/passwd", False),
        ("http://x.example:99999/", False),
        ("//x.example/a", False),
    ],
)
def test_valid_url(url: str, valid: bool) -> None:
    assert valid_url(url) is valid


@pytest.mark.parametrize(
    "url",
    [
        "http://screening.internal:8080@169.254.169.254/latest/meta-data/",  # userinfo names another host
        "https://hooks.partner.com.attacker.net/",  # a longer host with the prefix's text
        "https://hooks.partner.com@127.0.0.1:6379/",
        "http://screening.internal:8081/x",  # another port
        "https://screening.internal:8080/x",  # another scheme
        "http://127.0.0.1:8000/filesX",  # not under the path at a / boundary
    ],
)
def test_a_prefix_admits_only_its_own_origin_and_path(url: str) -> None:
    policy = OutboundPolicy.parse(
        ["http://screening.internal:8080", "https://hooks.partner.com", "http://127.0.0.1:8000/files/"]
    )
    assert not policy.admits_url(url)


def test_a_prefix_admits_what_is_under_it() -> None:
    policy = OutboundPolicy.parse(["http://screening.internal:8080", "http://127.0.0.1:8000/files/"])
    for url in (
        "http://screening.internal:8080/x",
        "http://Screening.Internal:8080/y?z=1",
        "http://127.0.0.1:8000/files/a",
    ):
        assert policy.admits_url(url), url
