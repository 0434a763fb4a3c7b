"""Mailers: SMTP through aiosmtplib, or (development) the log. Chosen by ``ASSESSGATE_SMTP_URL``."""

from __future__ import annotations

import os
import re
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import structlog

from core.adapters import Mailer, MailMessage
from core.errors import AssessgateError
from core.redaction import without_link_tokens
from core.settings import MailSettings

log = structlog.get_logger()


#: Line breaks and other characters with no place in one line of text: C0 and C1 controls, DEL, and
#: Unicode's own line and paragraph separators (which ``str.splitlines`` and some mail clients break at).
_NOT_IN_A_LINE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES: Final = re.compile(r"\s{2,}")


def single_line(value: str) -> str:
    """``value`` as one line: every control character and line break becomes a space, runs of white space
    one space. Candidate, job and company names come from the ATS or a tenant; in a header a newline would
    start a header of its own (``Bcc:``), in the text part a line of its own (a phishing link)."""
    return _SPACES.sub(" ", _NOT_IN_A_LINE.sub(" ", value)).strip()


def build_email(message: MailMessage, sender: str) -> EmailMessage:
    """Every header value passes :func:`single_line` (Python's ``email`` refuses a raw line break with an
    error, which would make the send fail for ever rather than inject; cleaning makes it neither)."""
    email = EmailMessage()
    email["From"] = single_line(sender)
    email["To"] = single_line(message.to)
    email["Subject"] = single_line(message.subject)
    email["Message-ID"] = (
        f"<{single_line(message.message_id)}@assessgate>" if message.message_id else make_msgid(domain="assessgate")
    )
    if message.reply_to and single_line(message.reply_to):
        email["Reply-To"] = single_line(message.reply_to)
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpMailer:
    def __init__(self, settings: MailSettings, *, timeout_s: float = 30) -> None:
        parts = urlsplit(settings.url)
        query = parse_qs(parts.query)
        self.sender = settings.sender
        self.host = parts.hostname or "localhost"
        self.implicit_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.starttls = query.get("starttls", ["0"])[0] in {"1", "true", "yes"}
        self.username = unquote(parts.username) if parts.username else None
        self.password = settings.password or None
        self.timeout_s = timeout_s

    async def send(self, message: MailMessage) -> None:
        try:
            await aiosmtplib.send(
                build_email(message, self.sender),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                start_tls=self.starttls,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise AssessgateError(f"the mail server refused the recipient: {exc}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise AssessgateError(f"mail not sent ({type(exc).__name__}: {exc})", retryable=True) from None
        log.info("mail_sent", subject=message.subject)


class LogMailer:
    """No mail server configured: nothing is sent. In development (``keep_in`` set) each message is written
    whole to a file there (mode 0600: its links are live, single-use credentials, so a developer can follow
    them) and logged with every link's token redacted; no log line holds a live link, in any environment.
    Elsewhere sending fails loudly (the job goes to ``dead`` with the reason) rather than dropping the mail
    quietly; production refuses ``ASSESSGATE_SMTP_URL=log:`` at start anyway."""

    def __init__(self, *, keep_in: Path | None = None) -> None:
        self.keep_in = keep_in

    async def send(self, message: MailMessage) -> None:
        if self.keep_in is None:
            raise AssessgateError("no mail server is configured (ASSESSGATE_SMTP_URL is log:); the mail was not sent")
        path = _keep(self.keep_in, message)
        log.warning(
            "mail_logged_not_sent",
            to=message.to,
            subject=message.subject,
            text=without_link_tokens(message.text),
            file=str(path),
            note="ASSESSGATE_SMTP_URL is log:; the whole message (with its live links) is in this file",
        )


def _keep(directory: Path, message: MailMessage) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(build_email(message, "assessgate <log@localhost>")))
    return path


def mailer_for(settings: MailSettings, *, development: bool, data_dir: str = ".assessgate") -> Mailer:
    if settings.url != "log:":
        return SmtpMailer(settings)
    return LogMailer(keep_in=Path(data_dir) / "mail" if development else None)
