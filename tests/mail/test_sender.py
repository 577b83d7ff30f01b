"""The outbox sender: real SMTP, each email once with several senders, retries, the log."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import get_settings
from app.db import session_scope
from app.mail.outbox import enqueue_email
from app.mail.render import render_email
from app.mail.sender import INTERRUPTED, OutboxSender, deliver_due
from app.main import create_app
from app.models import OutboxEmail, utcnow
from tests.support.smtp import free_port


def _enqueue(*recipients: str, link: str = "http://folio.test/verify?token=abc") -> None:
    with session_scope() as session:
        for recipient in recipients:
            enqueue_email(
                session,
                get_settings(),
                recipient=recipient,
                template="verify",
                context={"link": link},
            )


def _rows() -> list[OutboxEmail]:
    with session_scope(write=False) as session:
        return list(session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars())


def test_an_email_is_delivered_over_smtp_as_text_and_html(mailbox):
    _enqueue("ann@example.org")
    assert mailbox.deliver() == 1
    [message] = mailbox.to("ann@example.org")
    assert message["Subject"] == "Confirm your email address"
    assert message["From"] == get_settings().mail_from
    assert message.get_content_type() == "multipart/alternative"
    assert "\nhttp://folio.test/verify?token=abc\n" in mailbox.text_of(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<a href="http://folio.test/verify?token=abc">' in html
    [row] = _rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None
    assert mailbox.deliver() == 0  # never twice


def test_the_html_part_is_autoescaped_and_the_text_part_is_not():
    rendered = render_email("verify", {"link": "http://x/?a=1&b=<i>", "base_url": "http://x"})
    assert "http://x/?a=1&amp;b=&lt;i&gt;" in rendered.html
    assert "http://x/?a=1&b=<i>" in rendered.text


def test_two_concurrent_senders_deliver_each_email_once(mailbox):
    recipients = [f"reader{i}@example.org" for i in range(40)]
    _enqueue(*recipients)
    # Each sender signs its mail, to show that both took part.
    senders = [
        OutboxSender(
            get_settings().model_copy(
                update={
                    "outbox_poll_seconds": 0.02,
                    "mail_from": f"Sender {name} <{name}@folio.test>",
                }
            )
        )
        for name in ("a", "b")
    ]
    for sender in senders:
        sender.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(mailbox.messages) < len(recipients):
            time.sleep(0.05)
        time.sleep(0.2)  # room for a duplicate to show up, if there were one
    finally:
        for sender in senders:
            sender.stop()
    received = sorted(m["To"] for m in mailbox.messages)
    assert received == sorted(recipients)
    assert {m["From"].addresses[0].username for m in mailbox.messages} == {"a", "b"}
    assert {(r.status, r.attempts) for r in _rows()} == {("sent", 1)}


def test_an_unreachable_server_is_retried_with_backoff_past_the_attempt_limit_for_a_day(
    mailbox, monkeypatch
):
    monkeypatch.setenv("FOLIO_SMTP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("FOLIO_OUTBOX_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    _enqueue("ann@example.org")
    now = utcnow()
    assert deliver_due(now=now) == 1
    [row] = _rows()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error and row.next_attempt_at == now + timedelta(seconds=30)
    assert deliver_due(now=now + timedelta(seconds=29)) == 0  # not due yet
    assert deliver_due(now=now + timedelta(seconds=30)) == 1
    [row] = _rows()
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.next_attempt_at == now + timedelta(seconds=30 + 60)
    assert deliver_due(now=now + timedelta(seconds=90)) == 1
    [row] = _rows()
    # An outage is not the email's fault: it waits for the server beyond the attempt limit.
    assert (row.status, row.attempts) == ("pending", 3)
    assert row.next_attempt_at == now + timedelta(seconds=90 + 120)
    assert deliver_due(now=now + timedelta(days=1)) == 1
    [row] = _rows()
    assert (row.status, row.attempts) == ("failed", 4)  # a day old: its links are dead
    assert deliver_due(now=now + timedelta(days=2)) == 0


def test_a_retry_succeeds_once_the_server_answers(mailbox, monkeypatch):
    monkeypatch.setenv("FOLIO_SMTP_PORT", str(free_port()))
    get_settings.cache_clear()
    _enqueue("ann@example.org")
    now = utcnow()
    deliver_due(now=now)
    monkeypatch.setenv("FOLIO_SMTP_PORT", str(mailbox.port))
    get_settings.cache_clear()
    assert deliver_due(now=now + timedelta(minutes=1)) == 1
    assert len(mailbox.to("ann@example.org")) == 1
    [row] = _rows()
    assert (row.status, row.attempts) == ("sent", 2)


def _deliver_when_due() -> OutboxEmail:
    """One sender pass at the moment the (only) email is next due; returns its row after."""
    [row] = _rows()
    assert row.status == "pending", (row.status, row.last_error)
    assert deliver_due(now=row.next_attempt_at) == 1
    [row] = _rows()
    return row


def _point_smtp_at(port: int, monkeypatch) -> None:
    monkeypatch.setenv("FOLIO_SMTP_PORT", str(port))
    get_settings.cache_clear()


def test_a_temporary_refusal_after_a_long_outage_is_retried_not_failed(mailbox, monkeypatch):
    monkeypatch.setenv("FOLIO_OUTBOX_MAX_ATTEMPTS", "3")
    _point_smtp_at(free_port(), monkeypatch)  # the mail server is down
    _enqueue("ann@example.org")
    for _ in range(5):  # more passes than FOLIO_OUTBOX_MAX_ATTEMPTS
        row = _deliver_when_due()
        assert row.status == "pending", row.last_error
    _point_smtp_at(mailbox.port, monkeypatch)  # back, and greylisting: 451 the first time
    mailbox.defer("ann@example.org", times=1)
    row = _deliver_when_due()
    assert mailbox.deferrals_left("ann@example.org") == 0  # it was refused, once
    assert row.status == "pending" and "451" in row.last_error
    assert (row.attempts, row.refusals) == (6, 1)
    row = _deliver_when_due()
    assert (row.status, row.attempts, row.refusals) == ("sent", 7, 1)
    assert len(mailbox.to("ann@example.org")) == 1
    assert mailbox.deliver() == 0  # never twice


def test_an_email_refused_for_now_as_often_as_the_limit_fails(mailbox, monkeypatch):
    monkeypatch.setenv("FOLIO_OUTBOX_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    mailbox.defer("ann@example.org", times=10)
    _enqueue("ann@example.org")
    assert _deliver_when_due().status == "pending"
    assert _deliver_when_due().status == "pending"
    row = _deliver_when_due()
    assert (row.status, row.refusals) == ("failed", 3) and "451" in row.last_error
    assert mailbox.deliver() == 0
    assert mailbox.messages == []


def test_refusals_before_and_after_an_outage_add_up_to_the_limit(mailbox, monkeypatch):
    monkeypatch.setenv("FOLIO_OUTBOX_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    mailbox.defer("ann@example.org", times=10)
    _enqueue("ann@example.org")
    assert _deliver_when_due().refusals == 1
    _point_smtp_at(free_port(), monkeypatch)  # the server goes away for a while
    for _ in range(3):
        row = _deliver_when_due()
        assert (row.status, row.refusals) == ("pending", 1)
    _point_smtp_at(mailbox.port, monkeypatch)
    assert _deliver_when_due().status == "pending"
    row = _deliver_when_due()
    assert (row.status, row.attempts, row.refusals) == ("failed", 6, 3)
    assert mailbox.messages == []


def test_a_permanent_refusal_fails_at_once_and_spares_the_rest(mailbox):
    mailbox.refuse("gone@example.org")
    _enqueue("gone@example.org", "here@example.org")
    mailbox.deliver()
    statuses = {r.recipient: (r.status, r.attempts, r.refusals) for r in _rows()}
    assert statuses == {"gone@example.org": ("failed", 1, 1), "here@example.org": ("sent", 1, 0)}
    assert "550" in next(r.last_error for r in _rows() if r.status == "failed")


def test_an_email_interrupted_mid_send_is_not_sent_again(mailbox):
    _enqueue("ann@example.org")
    with session_scope() as session:
        session.execute(
            update(OutboxEmail).values(status="sending", attempts=1, next_attempt_at=utcnow())
        )
    assert mailbox.deliver() == 0
    assert mailbox.messages == []
    [row] = _rows()
    assert (row.status, row.last_error) == ("failed", INTERRUPTED)


def test_without_an_smtp_host_the_email_goes_to_the_log(caplog):
    assert get_settings().smtp_host is None
    _enqueue("dev@example.org", link="http://folio.test/verify?token=copy-me")
    with caplog.at_level(logging.INFO, logger="folio.mail"):
        assert deliver_due() == 1
        assert deliver_due() == 0
    assert caplog.text.count("\nhttp://folio.test/verify?token=copy-me\n") == 1
    [row] = _rows()
    assert row.status == "logged"


def test_a_body_sealed_under_an_old_secret_key_fails_for_good(mailbox, monkeypatch):
    _enqueue("ann@example.org")
    monkeypatch.setenv("FOLIO_SECRET_KEY", "a-rotated-secret-key-0123456789abcdef-xyz")
    get_settings.cache_clear()
    mailbox.deliver()
    assert mailbox.messages == []
    [row] = _rows()
    assert row.status == "failed" and "secret key" in row.last_error


def test_the_app_lifespan_runs_the_sender_when_asked(mailbox, monkeypatch):
    monkeypatch.setenv("FOLIO_OUTBOX_SENDER", "on")
    monkeypatch.setenv("FOLIO_OUTBOX_POLL_SECONDS", "0.05")
    get_settings.cache_clear()
    with TestClient(create_app(), base_url="http://folio.test") as client:
        response = client.post(
            "/api/v1/auth/register",
            json={"email": "life@example.org", "password": "long passphrase"},
        )
        assert response.status_code == 202
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not mailbox.to("life@example.org"):
            time.sleep(0.05)
    assert len(mailbox.to("life@example.org")) == 1


def test_the_sender_is_off_under_tests_by_default():
    assert get_settings().outbox_sender_enabled is False


@pytest.mark.usefixtures("mailbox")
def test_folio_worker_once_sends_what_is_due(mailbox):
    _enqueue("cli@example.org")
    result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 emails handled" in result.output
    assert len(mailbox.to("cli@example.org")) == 1
