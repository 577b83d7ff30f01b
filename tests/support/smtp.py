"""A real SMTP server for tests (aiosmtpd) and a `mailbox` that reads links out of its mail.

`mailbox` points FOLIO_SMTP_HOST/PORT at the server; `mailbox.deliver()` runs the outbox
sender once (the real one, over SMTP); `mailbox.token("verify", to=...)` returns the token
of the newest `{BASE_URL}/verify?token=…` line received by that address.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from app.config import get_settings
from app.mail.sender import deliver_due
from tests.support.ports import free_port


class Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()  # addresses answered "550 no such user"
        # address -> how many more times it is answered "451 try again later" (greylisting)
        self.deferrals: dict[str, int] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:  # noqa: N802, ANN001
        if address in self.refused:
            return "550 5.1.1 No such user here"
        with self.lock:
            if self.deferrals.get(address, 0) > 0:
                self.deferrals[address] -= 1
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802, ANN001
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class Mailbox:
    def __init__(self, collector: Collector, port: int) -> None:
        self.collector = collector
        self.port = port

    @property
    def messages(self) -> list[EmailMessage]:
        with self.collector.lock:
            return list(self.collector.messages)

    def clear(self) -> None:
        with self.collector.lock:
            self.collector.messages.clear()
            self.collector.refused.clear()
            self.collector.deferrals.clear()

    def refuse(self, address: str) -> None:
        with self.collector.lock:
            self.collector.refused.add(address)

    def defer(self, address: str, times: int) -> None:
        """The next `times` deliveries to this address are refused for now (451)."""
        with self.collector.lock:
            self.collector.deferrals[address] = times

    def deferrals_left(self, address: str) -> int:
        with self.collector.lock:
            return self.collector.deferrals.get(address, 0)

    def deliver(self) -> int:
        """Runs the outbox sender until nothing is due; returns how many emails it took."""
        total = 0
        while taken := deliver_due(get_settings()):
            total += taken
        return total

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        return part.get_content().replace("\r\n", "\n")

    def last_text(self, address: str) -> str:
        self.deliver()
        received = self.to(address)
        assert received, f"no email reached {address}"
        return self.text_of(received[-1])

    def token(self, path: str, to: str) -> str:
        """The token of the newest `{BASE_URL}/<path>?token=…` line sent to this address."""
        base = re.escape(get_settings().base_url)
        found = re.search(
            rf"^{base}/{path}\?token=([A-Za-z0-9_-]+)$", self.last_text(to), re.MULTILINE
        )
        assert found, f"no /{path} link on a line of its own in the email to {to}"
        return found.group(1)

    def code(self, to: str) -> str:
        found = re.search(r"^([0-9]{6})$", self.last_text(to), re.MULTILINE)
        assert found, f"no 6-digit code on a line of its own in the email to {to}"
        return found.group(1)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Mailbox]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Mailbox(collector, port)
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    monkeypatch.setenv("FOLIO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FOLIO_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    smtp_server.clear()
    yield smtp_server
    get_settings.cache_clear()
