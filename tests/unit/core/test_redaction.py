from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agtest.audit import WATCHED, leaks
from core.redaction import REDACTED, Redactor, loggable_path


def test_secret_keys_are_masked_at_any_depth() -> None:
    redact = Redactor()
    event = {"event": "x", "headers": {"Authorization": "Bearer abc", "accept": "json"}, "items": [{"api_key": "k"}]}
    assert redact(event) == {
        "event": "x",
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "items": [{"api_key": REDACTED}],
    }


def test_known_secret_values_are_masked_inside_any_string() -> None:
    redact = Redactor(["s3cr3t-value-123"])
    assert redact({"msg": "connect failed for url https://x/?k=s3cr3t-value-123"}) == {
        "msg": f"connect failed for url https://x/?k={REDACTED}"
    }
    assert redact(("s3cr3t-value-123",)) == (REDACTED,)


SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"  # disjoint from the "[redacted]" marker


@given(
    secret=st.text(SECRET_ALPHABET, min_size=6, max_size=40), before=st.text(max_size=20), after=st.text(max_size=20)
)
def test_a_configured_secret_never_survives(secret: str, before: str, after: str) -> None:
    out = Redactor([secret])({"event": before + secret + after, "nested": [before + secret], "n": 3})
    assert secret not in out["event"]
    assert secret not in out["nested"][0]
    assert out["n"] == 3


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Redactor(["abc"])({"event": "abc"}) == {"event": "abc"}


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="/"), min_size=8))
def test_a_candidate_links_token_never_reaches_the_log(token: str) -> None:
    assert loggable_path(f"/c/{token}") == f"/c/{REDACTED}"


@given(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", min_size=8))
def test_an_onboarding_links_token_never_reaches_the_log(token: str) -> None:
    assert loggable_path(f"/connect/{token}") == f"/connect/{REDACTED}"
    said = Redactor()(f"open https://gateway.example/connect/{token} to connect")
    assert said == f"open https://gateway.example/connect/{REDACTED} to connect"
    # Kombo's own /v1/connect/... paths are not link tokens.
    assert Redactor()("POST /v1/connect/create-link failed") == "POST /v1/connect/create-link failed"


def test_other_paths_are_logged_as_they_are() -> None:
    assert loggable_path("/v1/tenants/abc/orders") == "/v1/tenants/abc/orders"
    assert loggable_path("/candidates/c/x") == "/candidates/c/x"


def test_the_audit_names_what_leaked_never_the_value() -> None:
    street = WATCHED["candidate's street"]
    text = f"log line with {WATCHED['Kombo API key']} and {street}"
    assert leaks(text) == ["Kombo API key", "candidate's street"]
    assert leaks("nothing here") == []
