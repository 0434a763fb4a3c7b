"""X-Kombo-Signature: the contract's three test vectors, rotation, and properties of the verifier."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agtest import FIXTURES
from core.errors import SignatureInvalid
from core.kombo import signature

V3_BODY = (FIXTURES / "kombo" / "signature_v3_body.bin").read_bytes()

VECTORS = [
    ("s3cr3t", b"{}", "YIsMQG892hlwLXGgSEg7jDMSgxBtgKII489D295QUoY"),
    (
        "k0mb0-test-secret",
        bytes.fromhex("7b226d7367223a224c6f686dc3bc686c656e73747261c39f65227d"),
        "ei6sTsfsS8C8OdcBsF2mGL3IqOfB4uXZNxVpbz1UgnY",
    ),
    ("whsec_demo_7f3K9qLmZ2", V3_BODY, "-ZReg0H0-npWxslc3jSHqhT_ktMgd3h5cDrX6cFtZUg"),
]


def test_v3_fixture_is_the_contracts_exact_bytes() -> None:
    import hashlib

    assert len(V3_BODY) == 509
    assert hashlib.sha256(V3_BODY).hexdigest() == "3e126098e8e9079f0a4aa4db52ae243d2eae769b6102c0f814ba13b14b004186"


@pytest.mark.parametrize(("secret", "body", "expected"), VECTORS, ids=["V1", "V2", "V3"])
def test_contract_vectors(secret: str, body: bytes, expected: str) -> None:
    assert signature.sign(secret, body) == expected
    signature.verify([secret], body, expected)


def test_v3_rejects_padded_and_standard_base64() -> None:
    # The contract's trap: standard base64 with padding is NOT what Kombo sends.
    standard = "+ZReg0H0+npWxslc3jSHqhT/ktMgd3h5cDrX6cFtZUg="
    assert not signature.matches(["whsec_demo_7f3K9qLmZ2"], V3_BODY, standard)
    assert not signature.matches(["whsec_demo_7f3K9qLmZ2"], V3_BODY, VECTORS[2][2] + "=")


def test_any_configured_secret_may_match_for_rotation() -> None:
    body = b'{"id":"x"}'
    header = signature.sign("old-secret", body)
    signature.verify(["new-secret", "old-secret"], body, header)
    with pytest.raises(SignatureInvalid, match="does not match"):
        signature.verify(["new-secret"], body, header)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureInvalid, match="missing"):
        signature.verify(["s3cr3t"], b"{}", header)


def test_no_secret_configured_refuses_everything() -> None:
    with pytest.raises(SignatureInvalid):
        signature.verify([], b"{}", VECTORS[0][2])


def test_surrounding_whitespace_in_header_is_tolerated() -> None:
    signature.verify(["s3cr3t"], b"{}", f"  {VECTORS[0][2]}\t")


@given(secret=st.text(min_size=1, max_size=64), body=st.binary(max_size=2048))
def test_signature_is_43_chars_of_unpadded_base64url(secret: str, body: bytes) -> None:
    value = signature.sign(secret, body)
    assert len(value) == 43
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(base64.urlsafe_b64decode(value + "=")) == 32
    assert signature.matches([secret], body, value)


@given(secret=st.text(min_size=1, max_size=32), body=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_changed_byte_breaks_the_signature(secret: str, body: bytes, data: st.DataObject) -> None:
    value = signature.sign(secret, body)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    assert not signature.matches([secret], tampered, value)


@given(header=st.text(max_size=100))
def test_arbitrary_headers_never_raise_anything_but_signature_invalid(header: str) -> None:
    try:
        signature.verify(["s3cr3t"], b"{}", header)
    except SignatureInvalid:
        return
    assert header.strip() == VECTORS[0][2]
