"""The form page as rendered (no browser): whatever is submitted, the error summary's links name their field and
lead to a control that takes focus; the title says there are errors; the address parts at fault are marked."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from adapters.background_check import BackgroundCheckAdapter, BackgroundCheckConfig
from api.routes.candidate import form_page
from core.adapters import FormSpec
from core.forms import ADDRESS_PARTS, ADDRESS_ROWS, clean_submission, with_names

SPEC: FormSpec = with_names(
    BackgroundCheckAdapter(BackgroundCheckConfig()).form(None),  # type: ignore[arg-type]
    {"company": "Acme", "vendor": "Checkly"},
)
CONTROLS = ("input", "select", "textarea", "button")


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: dict[str, tuple[str, dict[str, str]]] = {}
        self.links: list[tuple[str, str]] = []
        self.title = ""
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.elements[values["id"]] = (tag, values)
        if tag == "a":
            self.links.append((values["href"], ""))
        self._in = tag

    def handle_data(self, data: str) -> None:
        if self._in == "a" and self.links:
            self.links[-1] = (self.links[-1][0], self.links[-1][1] + data)
        elif self._in == "title":
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def render(raw: dict[str, str]) -> tuple[Page, dict[str, str]]:
    _, errors = clean_submission(SPEC, raw)
    return Page(form_page(SPEC, "token", values=raw, errors=errors).content), errors


address_keys = st.sampled_from(
    [f"address_history-{row}-{part.key}" for row in range(ADDRESS_ROWS) for part in ADDRESS_PARTS]
)
submissions = st.dictionaries(
    address_keys | st.sampled_from(["date_of_birth", "consent"]),
    st.sampled_from(["", "x", "2019-03", "1990-04-01", "2999-01-01", "13/2020", "yes"]),
)


@given(submissions)
def test_every_summary_link_names_its_field_and_leads_to_a_control(raw: dict[str, str]) -> None:
    page, errors = render(raw)
    assert len(page.links) == len(errors)
    for href, text in page.links:
        tag, attrs = page.elements[href.removeprefix("#")]
        assert tag in CONTROLS, href
        assert attrs.get("aria-invalid") == "true", href
        assert text.split(":")[0] in {
            "Date of birth",
            "I consent to the background check Acme asked for, carried out by Checkly, and to the processing of the "
            "details on this form for it",
            "Current address",
            *(f"Previous address {n}" for n in range(1, 5)),
        }
    assert page.title == ("Error: Background check" if errors else "Background check")


def test_the_empty_form_marks_the_current_address_required_and_nothing_invalid() -> None:
    page = Page(form_page(SPEC, "token", values={}, errors={}).content)
    for part in ADDRESS_PARTS:
        _, attrs = page.elements[f"address_history-0-{part.key}"]
        assert ("required" in attrs) is part.required
        assert "aria-invalid" not in attrs
        assert attrs["type"] == "text"
        _, previous = page.elements[f"address_history-1-{part.key}"]
        assert "required" not in previous  # a previous address is optional as a whole
    assert 'type="month"' not in form_page(SPEC, "t", values={}, errors={}).content
