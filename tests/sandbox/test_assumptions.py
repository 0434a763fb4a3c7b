"""Each behaviour Kombo does not document is a ``SandboxSettings`` field (docs/sandbox.md's assumptions table):
flipping the setting flips the behaviour. Driven through ``Sandbox`` directly, without HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox import general
from sandbox.errors import KomboApiError
from sandbox.schema import is_email, is_uri
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings

RESULT = {"status": "OPEN", "result_url": "https://vendor.example/r"}


def new_sandbox(**settings: object) -> Sandbox:
    return Sandbox(SandboxSettings(api_key="k", **settings))  # type: ignore[arg-type]


async def refusal(call: Awaitable[object]) -> KomboApiError:
    with pytest.raises(KomboApiError) as caught:
        await call
    return caught.value


@pytest.mark.anyio
async def test_unknown_result_fields_are_refused_unless_the_setting_is_off() -> None:
    for strict in (True, False):
        sandbox = new_sandbox(reject_unknown_fields=strict)
        integration = await sandbox.create_integration(organization_name="Acme")
        order = await sandbox.place_order(integration, package_id="p", candidate={"email": "c@example.org"})
        body = msgspec.json.encode({**RESULT, "grade": "A"})
        if strict:
            refused = await refusal(sandbox.put_result(integration, order.id, body))
            assert (refused.status, refused.code) == (400, "PLATFORM.INPUT_INVALID")
            assert "'grade'" in refused.message
        else:
            assert await sandbox.put_result(integration, order.id, body) == []
        await sandbox.client.aclose()


@pytest.mark.anyio
async def test_not_found_status_is_a_setting_with_kombos_input_invalid_code() -> None:
    for status in (404, 400):
        sandbox = new_sandbox(not_found_status=status)
        integration = await sandbox.create_integration(organization_name="Acme")
        refused = await refusal(sandbox.put_result(integration, "NoSuchOrder", msgspec.json.encode(RESULT)))
        assert (refused.status, refused.code) == (status, "PLATFORM.INPUT_INVALID")
        with pytest.raises(KomboApiError) as token:
            sandbox.integration_by_token("NoSuchToken")
        assert (token.value.status, token.value.code) == (status, "PLATFORM.INPUT_INVALID")
        await sandbox.client.aclose()


@pytest.mark.anyio
async def test_unsupported_status_applies_to_what_an_assessment_integration_cannot_do() -> None:
    sandbox = new_sandbox(unsupported_status=422)
    integration = await sandbox.create_integration(organization_name="Acme")
    calls: list[Callable[[], object]] = [
        lambda: general.force_sync(sandbox, integration, b"{}"),
        lambda: general.passthrough(sandbox, integration, "sandbox", "ats", b'{"method": "GET", "path": "/"}'),
        lambda: general.setup_link(sandbox, integration, b'{"link_type": "EMBEDDED"}'),
    ]
    for call in calls:
        with pytest.raises(KomboApiError) as refused:
            call()
        assert (refused.value.status, refused.value.code) == (422, "PLATFORM.INPUT_INVALID")
    model = general.model_not_available(sandbox, integration, "/ats/jobs")
    assert (model.status, model.code) == (422, "INTEGRATION.MODEL_NOT_AVAILABLE")
    assert '"jobs"' in model.message
    await sandbox.client.aclose()


@pytest.mark.anyio
async def test_integration_state_statuses_are_settings() -> None:
    sandbox = new_sandbox(inactive_status=409, invalid_credentials_status=403, integration_not_found_status=410)
    integration = await sandbox.create_integration(organization_name="Acme")
    await general.set_enabled(sandbox, integration, b'{"value": false}')
    with pytest.raises(KomboApiError) as inactive:
        sandbox.usable_integration(integration.id)
    await sandbox.set_state(integration, "INVALID")
    with pytest.raises(KomboApiError) as invalid:
        sandbox.usable_integration(integration.id)
    with pytest.raises(KomboApiError) as missing:
        sandbox.usable_integration("sandbox:nope")
    assert (inactive.value.status, inactive.value.code) == (409, "INTEGRATION.INACTIVE")
    assert (invalid.value.status, invalid.value.code) == (403, "INTEGRATION.AUTHENTICATION_INVALID")
    assert (missing.value.status, missing.value.code) == (410, "PLATFORM.INTEGRATION_NOT_FOUND")
    await sandbox.client.aclose()


@pytest.mark.anyio
async def test_enabling_returns_a_disabled_integration_to_its_earlier_state() -> None:
    """Disabling an integration whose credentials are broken and enabling it again does not repair them."""
    sandbox = new_sandbox()
    integration = await sandbox.create_integration(organization_name="Acme")
    await sandbox.set_state(integration, "INVALID")
    await general.set_enabled(sandbox, integration, b'{"value": false}')
    assert integration.status == "INACTIVE"
    await general.set_enabled(sandbox, integration, b'{"value": false}')  # twice: still remembers INVALID
    await general.set_enabled(sandbox, integration, b'{"value": true}')
    assert integration.status == "INVALID"
    await general.set_enabled(sandbox, integration, b'{"value": true}')
    assert integration.status == "INVALID"
    with pytest.raises(KomboApiError) as refused:
        await general.set_enabled(sandbox, integration, b'{"value": "yes"}')
    assert refused.value.code == "PLATFORM.INPUT_INVALID"
    await sandbox.client.aclose()


@pytest.mark.anyio
async def test_the_state_webhook_on_enabling_is_a_setting() -> None:
    for send in (True, False):
        sandbox = new_sandbox(state_webhook_on_enabled=send, webhook_url="http://127.0.0.1:9/hook")
        integration = await sandbox.create_integration(organization_name="Acme")
        await general.set_enabled(sandbox, integration, b'{"value": false}')
        await general.set_enabled(sandbox, integration, b'{"value": true}')
        sent = [d.event_type for d in sandbox.state.deliveries if d.event_type == "integration-state-changed"]
        assert len(sent) == (2 if send else 0)
        await sandbox.client.aclose()


# --------------------------------------------------------------------------- the formats of the published schema
@given(
    scheme=st.sampled_from(["https", "http", "mailto", "urn", "ftp"]),
    rest=st.text(st.characters(categories=["L", "N"], include_characters="-._~/?#=&"), min_size=1).filter(
        lambda r: not r.startswith(("/", "?", "#"))
    ),
)
def test_absolute_uris_with_a_scheme_and_no_whitespace_are_uris(scheme: str, rest: str) -> None:
    assert is_uri(f"{scheme}://{rest}" if scheme.startswith("http") else f"{scheme}:{rest}")


@given(st.text())
def test_text_with_whitespace_or_without_a_scheme_is_no_uri(text: str) -> None:
    if any(c.isspace() for c in text) or ":" not in text or not text[:1].isascii() or not text[:1].isalpha():
        assert not is_uri(text)


@given(
    local=st.text(st.characters(categories=["L", "N"], include_characters="._+-"), min_size=1),
    domain=st.text(st.characters(categories=["L", "N"], include_characters="-"), min_size=1),
    tld=st.text(st.characters(categories=["L"]), min_size=2, max_size=6),
)
def test_addresses_with_a_dotted_domain_are_emails(local: str, domain: str, tld: str) -> None:
    assert is_email(f"{local}@{domain}.{tld}")


@pytest.mark.parametrize("text", ["not-an-email", "a@b", "a b@example.org", "@example.org", "a@@example.org", ""])
def test_these_are_not_emails(text: str) -> None:
    assert not is_email(text)


@pytest.mark.parametrize("text", ["not a url", "https://", "http:///path", "//example.org/x", "report.pdf", ""])
def test_these_are_not_uris(text: str) -> None:
    assert not is_uri(text)


@pytest.mark.anyio
async def test_email_and_uri_checks_and_other_tools_are_settings() -> None:
    link = {"end_user_email": "ops@intranet", "end_user_organization_name": "A", "integration_category": "ASSESSMENT"}
    strict, loose = new_sandbox(), new_sandbox(email_pattern=r"^\S+@\S+$", uri_pattern=r"^\S+$")
    refused = await refusal(strict.create_link(msgspec.json.encode(link)))
    assert "end_user_email" in refused.message
    assert "token=" in await loose.create_link(msgspec.json.encode(link))
    for sandbox in (strict, loose):
        integration = await sandbox.create_integration(organization_name="Acme")
        order = await sandbox.place_order(integration, package_id="p", candidate={"email": "c@example.org"})
        body = msgspec.json.encode({**RESULT, "result_url": "report.pdf"})
        if sandbox is strict:
            assert "result_url" in (await refusal(sandbox.put_result(integration, order.id, body))).message
        else:
            assert await sandbox.put_result(integration, order.id, body) == []
    greenhouse = msgspec.json.encode({**link, "end_user_email": "ops@acme.example", "integration_tool": "greenhouse"})
    assert "token=" in await strict.create_link(greenhouse)
    only_sandbox = new_sandbox(connect_any_tool=False)
    assert "greenhouse" in (await refusal(only_sandbox.create_link(greenhouse))).message
    for sandbox in (strict, loose, only_sandbox):
        await sandbox.client.aclose()
