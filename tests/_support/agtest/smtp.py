"""A real SMTP server (aiosmtpd) on a loopback port that keeps what it receives, for the invitation tests."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from agtest.servers import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        del server, session
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float = 10) -> list[EmailMessage]:
        """The first ``count`` messages, once they have arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout=timeout_s):
                raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
            return list(self.messages[:count])


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def link_in(message: EmailMessage) -> str:
    found = re.search(r"https?://\S+/c/[A-Za-z0-9_\-.]+", text_of(message))
    assert found is not None, text_of(message)
    return found.group(0)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    """A running SMTP server: (its inbox, the ``ASSESSGATE_SMTP_URL`` that reaches it)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
