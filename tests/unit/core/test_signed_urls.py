from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core import signed_urls


def test_a_fresh_link_is_valid_until_it_expires() -> None:
    signature = signed_urls.sign("key", "upload-1", 1_000)
    assert signed_urls.valid("key", "upload-1", 1_000, signature, now_s=999)
    assert not signed_urls.valid("key", "upload-1", 1_000, signature, now_s=1_001)
    assert not signed_urls.valid("key", "upload-2", 1_000, signature, now_s=999)
    assert not signed_urls.valid("other-key", "upload-1", 1_000, signature, now_s=999)
    assert not signed_urls.valid("key", "upload-1", 2_000, signature, now_s=999)  # a stretched expiry


@given(signature=st.text(max_size=80))
def test_any_signature_text_is_refused_without_raising(signature: str) -> None:
    # Found by schemathesis: a non-ASCII signature made compare_digest raise (a 500).
    assert not signed_urls.valid("key", "upload-1", 10**12, signature, now_s=0)
