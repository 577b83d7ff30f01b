"""A real SMTP server (aiosmtpd) that a test stops and starts again on the same port, and
the outbox rows as the database holds them."""

from __future__ import annotations

import asyncio

from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.db import session_scope
from app.models import OutboxEmail
from tests.support.ports import free_port
from tests.support.smtp import Collector, Mailbox


class SlowCollector(Collector):
    """Takes `seconds` to accept each message, so a test can act while one is in flight."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802, ANN001
        await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


class SwitchableSmtp(Mailbox):
    """Not listening until start(); stop() and start() again keep the port and the mail."""

    def __init__(self, collector: Collector | None = None) -> None:
        super().__init__(collector or Collector(), free_port())
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self) -> dict[str, str | None]:
        return {"FOLIO_SMTP_HOST": "127.0.0.1", "FOLIO_SMTP_PORT": str(self.port)}


def outbox_rows() -> list[OutboxEmail]:
    with session_scope(write=False) as session:
        return list(session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars())
