"""Finding 13: candidate, job and company names went raw into the invitation's subject and plain-text part.

A line break in a header value made Python's ``email`` refuse the message (the send failed for ever) and, in
the text, started a line of its own (a fake instruction or link under the tenant's name). Now every header
is one line without control characters, and each name stays on the line the template put it on. Checked on
what a real SMTP server receives.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.candidate_mail import Branding, compose
from adapters.mail import SmtpMailer, build_email, single_line
from agtest.smtp import Inbox, smtp, text_of
from core.adapters import MailMessage, OrderView
from core.kombo import Candidate, Job
from core.settings import MailSettings

__all__ = ["smtp"]
pytestmark = pytest.mark.anyio
LINK = "https://gateway.example/c/tok"
INJECTED = "\r\nBcc: attacker@evil.example\r\n\r\nUrgent: verify your bank details at https://evil.example\n"
HEADERS = ("From", "To", "Subject", "Reply-To", "Message-ID")


def order(first_name: str, job: str, email: str = "ines@example.net") -> OrderView:
    return OrderView(
        id=uuid.UUID(int=7),
        kombo_order_id="k1",
        tenant_id=uuid.UUID(int=8),
        integration_id="i1",
        package_id="p1",
        package_type="SKILLS_TEST",
        inline=False,
        candidate=Candidate(email=email, first_name=first_name),
        job=Job(name=job),
    )


def message(kind: str, language: str, first_name: str, job: str, company: str) -> MailMessage:
    branding = Branding(company=company, language=language, reply_to="hr@acme.example")  # type: ignore[arg-type]
    return compose(kind, branding, order(first_name, job), link=LINK, expires_at_s=1_800_000_000)


@pytest.mark.parametrize("kind", ["invitation", "reminder", "form_request"])
@pytest.mark.parametrize("language", ["en", "de"])
async def test_injected_lines_reach_neither_headers_nor_the_text(
    smtp: tuple[Inbox, str], kind: str, language: str
) -> None:
    inbox, url = smtp
    hostile = message(kind, language, f"Ines{INJECTED}", f"Java Developer{INJECTED}", f"Acme{INJECTED}")
    benign = message(kind, language, "Ines", "Java Developer", "Acme")
    await SmtpMailer(MailSettings(url=url, sender="Acme <hr@acme.example>")).send(hostile)
    [received] = inbox.wait_for(1)
    assert "Bcc" not in received
    assert received.get_all("To") == ["ines@example.net"]
    for header in HEADERS:
        for value in received.get_all(header) or []:
            assert "\n" not in str(value)
            assert "\r" not in str(value)
    assert "Acme" in str(received["Subject"])
    text = text_of(received)
    # Same lines as the benign message, each injected name on the line the template gave it.
    assert len(text.splitlines()) == len(benign.text.splitlines())
    assert not any(line.lstrip().startswith(("Bcc", "Urgent")) for line in text.splitlines())


async def test_a_line_break_in_the_address_or_reply_to_does_not_stop_the_mail(smtp: tuple[Inbox, str]) -> None:
    inbox, url = smtp
    hostile = MailMessage(
        to="ines@example.net\r\nBcc: attacker@evil.example",
        subject="Hello\nBcc: attacker@evil.example",
        text="body",
        reply_to="hr@acme.example\r\nBcc: attacker@evil.example",
        message_id="invitation.1\r\nBcc: x",
    )
    await SmtpMailer(MailSettings(url=url, sender="Acme <hr@acme.example>\nBcc: attacker@evil.example")).send(hostile)
    [received] = inbox.wait_for(1)
    assert "Bcc" not in received
    for header in HEADERS:
        for value in received.get_all(header) or []:
            assert "\n" not in str(value)


NAMES = st.text(st.characters(codec="utf-8"), max_size=80)


@given(first_name=NAMES, job=NAMES, company=NAMES)
def test_any_names_give_one_line_headers_and_the_template_s_lines(first_name: str, job: str, company: str) -> None:
    hostile = message("invitation", "en", first_name, job, company)
    benign = message("invitation", "en", "Ines", "Java Developer", "Acme")
    assert len(hostile.text.splitlines()) == len(benign.text.splitlines())
    email = build_email(hostile, "Acme <hr@acme.example>")
    for header in HEADERS:
        value = email.get(header)
        if value is not None:
            assert "\n" not in str(value)
            assert "\r" not in str(value)


@given(st.text(st.characters(codec="utf-8")))
def test_single_line_leaves_no_line_break_or_control_character(value: str) -> None:
    line = single_line(value)
    assert len(line.splitlines()) <= 1
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)
