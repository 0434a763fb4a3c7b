"""The mailers: message building, SMTP failures as retryable errors, and the log mailer outside development."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.mail import LogMailer, SmtpMailer, build_email, mailer_for
from agtest.servers import free_port
from core.adapters import MailMessage
from core.errors import AssessgateError
from core.settings import MailSettings

pytestmark = pytest.mark.anyio
MESSAGE = MailMessage(to="ada@example.org", subject="Hi", text="Plain", html="<p>Rich</p>", message_id="invitation.1")


def test_the_email_has_both_parts_and_a_stable_message_id() -> None:
    email = build_email(MESSAGE, "Acme <hr@acme.test>")
    assert email["Message-ID"] == "<invitation.1@assessgate>"
    assert email.get_body(preferencelist=("plain",)).get_content().strip() == "Plain"  # type: ignore[union-attr]
    assert "Rich" in email.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


async def test_an_unreachable_server_is_a_retryable_error() -> None:
    mailer = SmtpMailer(MailSettings(url=f"smtp://127.0.0.1:{free_port()}"), timeout_s=2)
    with pytest.raises(AssessgateError) as caught:
        await mailer.send(MESSAGE)
    assert caught.value.retryable


async def test_the_log_mailer_refuses_to_pretend_outside_development(tmp_path: Path) -> None:
    await LogMailer(keep_in=tmp_path).send(MESSAGE)
    with pytest.raises(AssessgateError, match="no mail server"):
        await LogMailer().send(MESSAGE)
    assert isinstance(mailer_for(MailSettings(), development=True), LogMailer)
    smtp = mailer_for(MailSettings(url="smtp://user:p%40ss@mail.example:2525?starttls=1"), development=False)
    assert isinstance(smtp, SmtpMailer)
    assert (smtp.host, smtp.port, smtp.username, smtp.password, smtp.starttls) == (
        "mail.example",
        2525,
        "user",
        "p@ss",
        True,
    )
