"""Properties of onboarding links' tokens and the onboarding page's form token: a link names one tenant and one
issue, and nothing but the key ring's own signature over exactly those claims opens it."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from core import candidate_links, onboarding_tokens
from core.onboarding_tokens import OnboardingClaims, TokenCheck

SECRET = "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="
OLD_SECRET = "b2xkLWluc2VjdXJlLXRlc3Qta2V5LTAxMjM0NTY3ODk="
claims_of = st.builds(OnboardingClaims, st.uuids(), st.uuids(), st.integers(0, 2**40))


@given(claims_of, st.integers(0, 2**40))
def test_a_link_is_genuine_until_it_expires_then_expired_naming_its_tenant(claims: OnboardingClaims, now: int) -> None:
    token = onboarding_tokens.mint(SECRET, claims)
    check, found = onboarding_tokens.check((SECRET,), token, now_s=now)
    assert found == claims  # the same tenant and issue, never another's
    assert check is (TokenCheck.GENUINE if now <= claims.expires_at_s else TokenCheck.EXPIRED)


@given(claims_of)
def test_a_link_survives_a_key_rotation_but_not_another_key_ring(claims: OnboardingClaims) -> None:
    token = onboarding_tokens.mint(OLD_SECRET, claims)
    assert onboarding_tokens.check((SECRET, OLD_SECRET), token, now_s=0)[1] == claims
    assert onboarding_tokens.check((SECRET,), token, now_s=0) == (TokenCheck.FORGED, None)
    assert onboarding_tokens.check((), token, now_s=0) == (TokenCheck.FORGED, None)


@given(claims_of, st.integers(0, 400), st.characters(codec="utf-8", exclude_categories=["Cs"]))
def test_any_change_to_a_link_is_forged(claims: OnboardingClaims, position: int, char: str) -> None:
    token = onboarding_tokens.mint(SECRET, claims)
    index = position % len(token)
    changed = token[:index] + char + token[index + 1 :]
    if changed != token:
        assert onboarding_tokens.check((SECRET,), changed, now_s=0) == (TokenCheck.FORGED, None)


@given(claims_of, st.uuids())
def test_claims_for_another_tenant_cannot_be_spliced_in(claims: OnboardingClaims, other: uuid.UUID) -> None:
    """A signature is over the whole body: another tenant's claims with this link's signature are refused."""
    token = onboarding_tokens.mint(SECRET, claims)
    forged_claims = OnboardingClaims(tenant_id=other, link_id=claims.link_id, expires_at_s=claims.expires_at_s)
    body = onboarding_tokens.mint(SECRET, forged_claims).partition(".")[0]
    spliced = f"{body}.{token.partition('.')[2]}"
    if other != claims.tenant_id:
        assert onboarding_tokens.check((SECRET,), spliced, now_s=0) == (TokenCheck.FORGED, None)


@given(st.uuids(), st.integers(0, 2**40))
def test_a_candidate_link_never_passes_for_an_onboarding_link(order: uuid.UUID, expires: int) -> None:
    """Each kind of link signs with a key of its own, though both derive from the same secret."""
    token = candidate_links.mint(SECRET, candidate_links.LinkClaims(order, "launch", expires))
    assert onboarding_tokens.check((SECRET,), token, now_s=0) == (TokenCheck.FORGED, None)


@given(st.text(max_size=200))
def test_any_text_is_forged_without_raising(token: str) -> None:
    assert onboarding_tokens.check((SECRET,), token, now_s=0) == (TokenCheck.FORGED, None)


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40), st.text(max_size=60))
def test_the_form_token_is_bound_to_the_browser_and_the_link(nonce: str, link: str, presented: str) -> None:
    token = onboarding_tokens.form_token(SECRET, nonce, link)
    assert onboarding_tokens.form_token_valid((OLD_SECRET, SECRET), nonce, link, token)
    assert not onboarding_tokens.form_token_valid((SECRET,), nonce + "x", link, token)  # another browser
    assert not onboarding_tokens.form_token_valid((SECRET,), nonce, link + "x", token)  # another link
    assert not onboarding_tokens.form_token_valid((SECRET,), "", link, onboarding_tokens.form_token(SECRET, "", link))
    if presented != token:
        assert not onboarding_tokens.form_token_valid((SECRET,), nonce, link, presented)
