"""SIGTERM to `folio serve`: requests in flight get their answers, and the outbox sender
stops without losing an email it had claimed (each is sent once, or pending again)."""

from __future__ import annotations

import signal
import threading
import time

import httpx

from app.config import get_settings
from app.db import session_scope
from app.mail.outbox import enqueue_email
from app.mail.sender import deliver_due
from tests.faults.mail_server import SlowCollector, SwitchableSmtp, outbox_rows
from tests.support.app import DEFAULT_PASSWORD, create_user
from tests.support.served import served
from tests.support.waiting import wait_for

SIGN_INS = 16  # ~0.2 s of argon2 on two cores: most are still in flight at SIGTERM
RECIPIENTS = [f"reader{n}@example.org" for n in range(12)]


def _queue_all_at_once() -> None:
    settings = get_settings()
    with session_scope() as session:  # one commit: the sender claims them as one batch
        for recipient in RECIPIENTS:
            enqueue_email(
                session,
                settings,
                recipient=recipient,
                template="verify",
                context={"link": "http://folio.test/verify?token=t", "code": "123456"},
            )


def test_sigterm_finishes_requests_in_flight_and_leaves_no_claimed_email_behind(
    tmp_path, monkeypatch
):
    for n in range(SIGN_INS):
        create_user(f"signin{n}@example.org")
    smtp = SwitchableSmtp(SlowCollector(seconds=1.0))  # a second per email: a batch takes 12
    smtp.start()
    env = {
        **smtp.env(),
        "FOLIO_OUTBOX_SENDER": "on",
        "FOLIO_OUTBOX_POLL_SECONDS": "0.05",
        "FOLIO_SMTP_TIMEOUT_SECONDS": "3",
    }
    try:
        with served(tmp_path, env=env) as server:
            _queue_all_at_once()
            wait_for(
                lambda: any(r.status == "sending" for r in outbox_rows()), 10, "a claimed batch"
            )
            time.sleep(0.3)  # the first email is in the middle of its SMTP conversation

            answers: list[tuple[int, float]] = []
            # One client made up front: making one per thread costs more than the requests.
            client = httpx.Client(base_url=server.base)

            def sign_in(email: str) -> None:
                response = client.post(
                    "/api/v1/auth/login",
                    data={"username": email, "password": DEFAULT_PASSWORD},
                    timeout=20,
                )
                answers.append((response.status_code, time.monotonic()))

            logins = [
                threading.Thread(target=sign_in, args=(f"signin{n}@example.org",))
                for n in range(SIGN_INS)
            ]
            for login in logins:
                login.start()
            # The first answer: the rest are received and waiting on argon2 (~0.1 s each,
            # two cores). A fixed sleep here let every sign-in finish on a quiet machine.
            deadline = time.monotonic() + 10
            while not answers and time.monotonic() < deadline:
                time.sleep(0.002)
            started = time.monotonic()
            exit_code = server.stop(signal.SIGTERM, timeout=30)
            took = time.monotonic() - started
            for login in logins:
                login.join(5)
            client.close()
            assert [status for status, _ in answers] == [200] * SIGN_INS
            assert max(at for _, at in answers) > started  # some were in flight at SIGTERM
            # uvicorn exits by re-raising the SIGTERM it handled, after its clean shutdown.
            assert exit_code in (0, -signal.SIGTERM), server.output()[-2000:]
            assert "Application shutdown complete" in server.output()
            assert took < 6, f"shutdown took {took:.1f} s"

        rows = outbox_rows()
        assert not [r for r in rows if r.status == "sending"], "an email left claimed"
        sent = sorted(r.recipient for r in rows if r.status == "sent")
        assert sent == sorted(m["To"] for m in smtp.messages)  # sent means received, once
        assert {r.status for r in rows} <= {"sent", "pending"}

        # The next sender delivers the rest: every email exactly once.
        smtp.collector.seconds = 0  # type: ignore[attr-defined]
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)  # type: ignore[arg-type]
        get_settings.cache_clear()
        while deliver_due(get_settings()):
            pass
        assert sorted(m["To"] for m in smtp.messages) == sorted(RECIPIENTS)
    finally:
        smtp.stop()
        get_settings.cache_clear()
