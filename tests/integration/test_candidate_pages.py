"""Every candidate page the gateway serves, in a real headless Chromium: axe-core finds no WCAG 2.1 A/AA
violation and no page scrolls sideways at 320 px; the hosted form and its error state work from the keyboard
alone, with a visible focus indicator at every stop; and each point of the manual audit (input purposes, link
purpose, typed months, the page after errors, required and invalid address parts) holds.

The pages come from the real stack (gateway, sandbox, SMTP): links arrive by mail like a candidate's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agtest.axe import Axe, audited_page, axe
from agtest.browser import launched
from agtest.keyboard import focused, press_tab
from agtest.smtp import Inbox, link_in, smtp
from agtest.stack import ADMIN, Clock, ports, running, stack_settings
from agtest.sync_jobs import drain, on_loop
from core import candidate_links
from core.settings import MailSettings, Settings
from storage.migrations import migrate

__all__ = ["axe", "ports", "smtp"]
CATALOG = [
    {"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java", "description": "90 minutes"},
    {"id": "pkg-bg", "type": "BACKGROUND_CHECK", "name": "Background check", "description": "EU standard"},
]
PLUGINS = """
[routes]
SKILLS_TEST = "assessment"
BACKGROUND_CHECK = "background_check"

[adapters.assessment]
launch_url_template = "https://tests.vendor.example/start?order={order_id}&expires={expires}&signature={signature}"

[adapters.background_check]
forward_url = "https://screening.vendor.example/cases"
"""
#: The vendor's name (ASSESSGATE_VENDOR_NAME); the tenants are called Acme.
VENDOR = "Checkly"
#: What the adapters require of a tenant (without them its orders wait): the secrets they sign with.
SECRETS = ("launch_signing_secret", "forward_signing_secret")
#: A tenant's own form: every kind of field, with purposes, hints and optional fields.
TENANT_FIELDS: list[dict[str, Any]] = [
    {"name": "given_name", "label": "First name", "autocomplete": "given-name"},
    {"name": "family_name", "label": "Last name", "autocomplete": "family-name"},
    {"name": "email", "label": "Email address", "kind": "email", "autocomplete": "email"},
    {
        "name": "phone",
        "label": "Mobile phone",
        "kind": "tel",
        "autocomplete": "mobile tel",
        "required": False,
        "help": "Only if we cannot reach you by email.",
    },
    {"name": "birth_country", "label": "Country of birth", "kind": "country"},
    {"name": "level", "label": "Check level", "kind": "select", "options": ["Basic", "Enhanced"]},
    {"name": "start", "label": "Earliest start date", "kind": "date", "required": False},
    {"name": "notes", "label": "Anything we should know?", "kind": "textarea", "required": False},
    {"name": "addresses", "label": "Where you lived", "kind": "address_history", "help": "The last five years."},
    {"name": "consent", "label": "I agree to the check.", "kind": "checkbox", "help": "You can withdraw at any time."},
]
# The default form's controls in Tab order: date of birth, five addresses of six parts, consent, submit.
DEFAULT_CONTROLS = 33


@dataclass
class Candidate:
    gateway: str
    sandbox: str
    settings: Settings
    http: httpx.Client
    inbox: Inbox
    clock: Clock

    def tenant(self, fields: list[dict[str, Any]] | None = None) -> tuple[str, str]:
        tenant = self.http.post(f"{self.gateway}/v1/tenants", json={"name": "Acme"}, headers=ADMIN).json()["id"]
        self.http.put(f"{self.gateway}/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
        for name in SECRETS:
            secret = {"value": "vendor-launch-secret-0123456789"}
            self.http.put(f"{self.gateway}/v1/tenants/{tenant}/secrets/{name}", json=secret, headers=ADMIN)
        if fields is not None:
            url = f"{self.gateway}/v1/tenants/{tenant}/adapters/background_check/settings"
            self.http.put(url, json={"fields": fields}, headers=ADMIN).raise_for_status()
        integration = self.http.post(f"{self.sandbox}/_sandbox/integrations", json={"origin_id": tenant}).json()["id"]
        return tenant, integration

    def link(self, integration: str, package: str) -> str:
        """A new order's link, as the candidate gets it by mail."""
        body = {"package_id": package, "candidate": {"email": "ada@example.org", "first_name": "Ada"}}
        self.http.post(f"{self.sandbox}/_sandbox/integrations/{integration}/orders", json=body).raise_for_status()
        seen = len(self.inbox.messages)
        drain(self.settings, self.clock)
        return link_in(self.inbox.wait_for(seen + 1)[seen])


@pytest.fixture
def pages_settings(
    test_settings: Settings, ports: tuple[int, int], smtp: tuple[Inbox, str], tmp_path: Path
) -> Settings:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(PLUGINS)
    settings = stack_settings(
        test_settings, *ports, plugins_file=str(plugins), mail=MailSettings(url=smtp[1]), vendor_name=VENDOR
    )
    on_loop(migrate, settings)
    return settings


@pytest.fixture
def candidate(pages_settings: Settings, ports: tuple[int, int], smtp: tuple[Inbox, str]) -> Iterator[Candidate]:
    with running(pages_settings, ports[1]) as (gateway, sandbox), httpx.Client(timeout=30) as http:
        yield Candidate(gateway, sandbox, pages_settings, http, smtp[0], Clock())


@pytest.fixture
def browser(pages_settings: Settings) -> Iterator[Browser]:
    """Launched after the database fixtures (which need ``asyncio.run`` on this thread) and closed before them."""
    del pages_settings
    with launched() as instance:
        yield instance


def expired(settings: Settings, link: str) -> str:
    """The same order and purpose as ``link``, signed correctly, but expired a minute ago."""
    base, _, token = link.rpartition("/")
    claims = candidate_links.verify(settings.secret_keys, token, now_s=0)
    assert claims is not None
    late = candidate_links.LinkClaims(
        order_id=claims.order_id, purpose=claims.purpose, expires_at_s=int(time.time()) - 60
    )
    return f"{base}/{candidate_links.mint(settings.secret_keys[0], late)}"


def submit(page: Page) -> None:
    page.get_by_role("button", name="Submit securely").click()


def test_every_candidate_page_passes_the_audit(candidate: Candidate, browser: Browser, axe: Axe) -> None:
    tenant, integration = candidate.tenant()
    confirm = candidate.link(integration, "pkg-java")
    form = candidate.link(integration, "pkg-bg")
    _, own_integration = candidate.tenant(TENANT_FIELDS)
    own_form = candidate.link(own_integration, "pkg-bg")
    assert_charset_once(candidate.http, confirm, form, f"{candidate.gateway}/c/nothing")
    with audited_page(browser) as page:
        page.goto(confirm)
        expect(page.get_by_role("button", name="Start now")).to_be_visible()
        # The tenant invites, the vendor runs it: named, never a generic "recruiting team".
        expect(page.locator("main")).to_contain_text(f"Acme has invited you to an assessment, run by {VENDOR}.")
        expect(page.locator("footer")).to_have_text(f"{VENDOR}, for Acme")
        axe.check(page, "assessment confirmation page")

        page.goto(form)
        expect(page.get_by_role("heading", name="Background check")).to_be_visible()
        expect(page.locator("main")).to_contain_text(f"Acme has asked for a background check, carried out by {VENDOR}.")
        expect(page.get_by_label("I consent to the background check Acme asked for")).to_be_visible()
        axe.check(page, "background-check form, empty")
        submit(page)
        expect(page.get_by_role("alert")).to_contain_text("Please check 3 answers")
        axe.check(page, "background-check form, every field in error")
        page.fill("#address_history-1-street", "3 Old Road")
        page.fill("#address_history-1-from", "March 2015")
        submit(page)
        expect(page.get_by_role("alert")).to_contain_text("Previous address 1: please fill in")
        axe.check(page, "background-check form, an error in a previous address")

        page.goto(own_form)
        expect(page.get_by_label("Mobile phone")).to_have_attribute("autocomplete", "mobile tel")
        axe.check(page, "a tenant's form with every kind of field, empty")
        submit(page)
        expect(page.get_by_role("alert")).to_contain_text("Please check 7 answers")
        axe.check(page, "a tenant's form with every kind of field, in error")

        page.goto(form)
        fill_the_default_form(page)
        submit(page)
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Acme will be in touch")
        axe.check(page, "thank-you page")

        for name, url, heading in (
            ("used-link page", form, "This link was already used"),
            ("expired-link page", expired(candidate.settings, confirm), "This link does not work"),
            ("forged-link page", f"{confirm[:-3]}xyz", "This link does not work"),
            ("link-that-names-nothing page", f"{candidate.gateway}/c/nothing", "This link does not work"),
        ):
            page.goto(url)
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            # A link that names an order says whom to contact; one that names nothing says so in general terms.
            whom = "Acme" if name == "used-link page" else "the company that sent it"
            expect(page.get_by_role("status")).to_contain_text(whom)
            axe.check(page, name)

        orders = candidate.http.get(f"{candidate.gateway}/v1/tenants/{tenant}/orders", headers=ADMIN).json()["items"]
        [order] = [o for o in orders if o["adapter"] == "assessment"]
        result = {
            "status": "COMPLETED",
            "result_url": "https://tests.vendor.example/r/1",
            "completed_at": "2026-11-26T10:00:00.000Z",
        }
        done = candidate.http.put(
            f"{candidate.gateway}/v1/tenants/{tenant}/orders/{order['id']}/result", json=result, headers=ADMIN
        )
        assert done.status_code == 202
        page.goto(confirm)
        expect(page.get_by_role("heading", name="Nothing left to do")).to_be_visible()
        axe.check(page, "closed-order page")


def assert_charset_once(http: httpx.Client, *urls: str) -> None:
    """Content-Type says ``charset=utf-8`` once (it once said it twice)."""
    for url in urls:
        assert http.get(url).headers["content-type"] == "text/html; charset=utf-8", url


def fill_the_default_form(page: Page) -> None:
    page.get_by_label("Date of birth").fill("1990-04-01")
    page.fill("#address_history-0-street", "12 Lovelace Lane")
    page.fill("#address_history-0-city", "Manchester")
    page.fill("#address_history-0-country", "United Kingdom")
    page.fill("#address_history-0-from", "2019-03")
    page.get_by_label("I consent").check()


def test_the_form_and_its_errors_work_from_the_keyboard_alone(candidate: Candidate, browser: Browser) -> None:
    _, integration = candidate.tenant()
    link = candidate.link(integration, "pkg-bg")
    with audited_page(browser, viewport={"width": 375, "height": 667}) as page:
        page.goto(link)
        assert len(controls(page)) == DEFAULT_CONTROLS
        assert walk(page) == controls(page)  # every stop shows a 3 px outline, the date picker's too
        page.keyboard.press("Enter")

        # After the submit: the title says so, focus is on the summary, its links name their fields.
        expect(page).to_have_title("Error: Background check")
        assert focused(page) == "error-summary"
        links = page.locator("#error-summary a")
        assert links.all_inner_texts() == [
            "Date of birth: This field is required.",
            "Current address: please fill in street and number, city or town, country and the month you moved in.",
            "I consent to the background check Acme asked for, carried out by Checkly, and to the processing of "
            "the details on this form for it: Please tick this box to continue.",
        ]
        press_tab(page)
        assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#field-date_of_birth"
        page.keyboard.press("Enter")
        assert focused(page) == "field-date_of_birth"
        assert_in_view(page, "label[for=field-date_of_birth]", "#error-date_of_birth")
        page.keyboard.type("04011990")  # the date input's month, day and year, in English
        assert page.input_value("#field-date_of_birth") == "1990-04-01"

        follow_summary_link(page, "#address_history-0-street")
        assert_in_view(page, "label[for=address_history-0-street]", "#error-address_history")
        current = {
            part: page.locator(f"#address_history-0-{part}")
            for part in ("street", "postal_code", "city", "country", "from")
        }
        for part in ("street", "city", "country", "from"):
            expect(current[part]).to_have_attribute("required", "")
            expect(current[part]).to_have_attribute("aria-invalid", "true")
            expect(current[part]).to_have_attribute("aria-describedby", "error-address_history")
        expect(current["postal_code"]).not_to_have_attribute("aria-invalid", "true")
        for text in ("12 Lovelace Lane", "M1 1AA", "Manchester", "United Kingdom", "2019-03"):
            page.keyboard.type(text)
            press_tab(page)
        assert page.input_value("#address_history-0-from") == "2019-03"  # typed as the label says, kept as typed

        follow_summary_link(page, "#field-consent")
        assert_in_view(page, "label[for=field-consent]", "#error-consent")
        page.keyboard.press("Space")
        press_tab(page)
        assert focused(page) == "submit"
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        expect(page).to_have_title("Thank you")


def follow_summary_link(page: Page, target: str) -> None:
    """Tab (from the summary) or Shift+Tab (from the form) to the summary's link to ``target`` and follow it:
    focus lands on the control it names."""
    key = "Tab" if focused(page) == "error-summary" else "Shift+Tab"
    for _ in range(DEFAULT_CONTROLS * 4):
        press_tab(page, key)
        if page.evaluate("(t) => document.activeElement.getAttribute('href') === t", target):
            page.keyboard.press("Enter")
            assert page.evaluate("(t) => document.activeElement.matches(t)", target), focused(page)
            return
    raise AssertionError(f"no summary link to {target}")


def assert_in_view(page: Page, *selectors: str) -> None:
    """Each of ``selectors`` is entirely inside the viewport: the field's label and message are not scrolled away."""
    for selector in selectors:
        box = page.eval_on_selector(
            selector, "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, innerHeight] }"
        )
        top, bottom, height = box
        assert top >= 0, f"{selector} is above the viewport: {box}"
        assert bottom <= height, f"{selector} is below the viewport: {box}"


def test_fields_declare_their_input_purpose(candidate: Candidate, browser: Browser) -> None:
    _, integration = candidate.tenant()
    _, own_integration = candidate.tenant(TENANT_FIELDS)
    with audited_page(browser) as page:
        page.goto(candidate.link(integration, "pkg-bg"))
        expect(page.get_by_label("Date of birth")).to_have_attribute("autocomplete", "bday")
        purposes = {
            "street": "address-line1",
            "postal_code": "postal-code",
            "city": "address-level2",
            "country": "country-name",
        }
        for part, purpose in purposes.items():
            expect(page.locator(f"#address_history-0-{part}")).to_have_attribute("autocomplete", purpose)
            # A previous address is a section of its own: the browser does not fill the current one in again.
            expect(page.locator(f"#address_history-2-{part}")).to_have_attribute(
                "autocomplete", f"section-previous2 {purpose}"
            )
        for part in ("from", "to"):  # months are typed, in the format the label states
            expect(page.locator(f"#address_history-0-{part}")).to_have_attribute("type", "text")
            expect(page.locator(f"#address_history-0-{part}")).to_have_attribute("autocomplete", "off")

        page.goto(candidate.link(own_integration, "pkg-bg"))
        for field in TENANT_FIELDS:
            if "autocomplete" in field:
                expect(page.locator(f"#field-{field['name']}")).to_have_attribute("autocomplete", field["autocomplete"])
        expect(page.locator("#field-notes")).not_to_have_attribute("autocomplete", "on")


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ({"name": "dob", "label": "Born", "kind": "date", "autocomplete": "birthday"}, "names no input purpose"),
        ({"name": "ok", "label": "OK", "kind": "checkbox", "autocomplete": "on"}, "takes no autocomplete"),
    ],
)
def test_a_purpose_that_is_not_one_is_refused(candidate: Candidate, field: dict[str, Any], problem: str) -> None:
    tenant, _ = candidate.tenant()
    url = f"{candidate.gateway}/v1/tenants/{tenant}/adapters/background_check/settings"
    response = candidate.http.put(url, json={"fields": [field]}, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem in response.text
    assert "fields[0]" in response.text


def walk(page: Page) -> list[str]:
    """Tab from the top of the page to the submit button: the ids of the controls reached, in order (a date
    input's month, day, year and calendar button are one control); every stop shows a visible focus outline."""
    reached: list[str] = []
    while not reached or reached[-1] != "submit":
        stop = press_tab(page)
        if not reached or reached[-1] != stop:
            reached.append(stop)
        assert len(reached) <= DEFAULT_CONTROLS * 2, reached
    return reached


def controls(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "form input, form select, form textarea, form button", "es => es.map(e => e.id)"
    )
    return ids


def test_a_tenant_form_with_every_kind_of_field_works_from_the_keyboard(candidate: Candidate, browser: Browser) -> None:
    _, integration = candidate.tenant(TENANT_FIELDS)
    with audited_page(browser) as page:
        page.goto(candidate.link(integration, "pkg-bg"))
        assert walk(page) == controls(page)
        page.keyboard.press("Enter")
        expect(page).to_have_title("Error: Background check")
        assert focused(page) == "error-summary"
        texts = page.locator("#error-summary a").all_inner_texts()
        assert [text.split(":")[0] for text in texts] == [
            *("First name", "Last name", "Email address", "Country of birth", "Check level", "Current address"),
            "I agree to the check",
        ]
        follow_summary_link(page, "#field-level")
        assert_in_view(page, "label[for=field-level]", "#error-level")
        page.keyboard.press("ArrowDown")  # a closed select takes its next option from the keyboard
        assert page.input_value("#field-level") == "Basic"
        follow_summary_link(page, "#field-consent")
        assert_in_view(page, "label[for=field-consent]", "#error-consent")
        page.keyboard.press("Space")
        assert page.is_checked("#field-consent")


def test_the_confirmation_page_works_from_the_keyboard(candidate: Candidate, browser: Browser) -> None:
    tenant, integration = candidate.tenant()
    secret = {"value": "vendor-launch-secret-0123456789"}
    url = f"{candidate.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret"
    assert candidate.http.put(url, json=secret, headers=ADMIN).status_code == 204
    # Under the page's own CSP (no bypass): Chromium checks a form's redirect against form-action.
    with audited_page(browser, bypass_csp=False) as page:
        # The vendor's test platform is not on loopback: the browser's request to it is answered here.
        page.route("https://tests.vendor.example/**", lambda route: route.fulfill(body="<title>Vendor</title>"))
        page.goto(candidate.link(integration, "pkg-java"))
        assert press_tab(page) == "start"
        with page.expect_request(lambda request: request.url.startswith("https://tests.vendor.example/start")):
            page.keyboard.press("Enter")
        expect(page).to_have_title("Vendor")


def test_a_form_post_the_server_cannot_read_is_a_page_and_leaves_the_link_working(candidate: Candidate) -> None:
    _, integration = candidate.tenant()
    link = candidate.link(integration, "pkg-bg")
    broken = candidate.http.post(link, content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    assert 400 <= broken.status_code < 500, broken.text
    assert broken.headers["content-type"].startswith("text/html")  # never problem+json to a candidate
    assert "This link does not work" in broken.text
    assert candidate.http.get(link).status_code == 200  # nothing was used up
