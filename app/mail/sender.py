"""The outbox sender: claims due emails, sends each once over SMTP, retries with backoff.

Statuses: `pending` (due at next_attempt_at) -> `sending` (claimed, leased) -> `sent`;
a failed attempt goes back to `pending` with a doubled delay (at most an hour), and to
`failed` on a permanent (5xx) refusal or after FOLIO_OUTBOX_MAX_ATTEMPTS refusals of that
email. A mail server that cannot be reached is an outage, not the email's fault: the email
waits (its attempts counted and the delay still doubling, but no refusal counted) until the
server is back, and is given up only once it is a day old. So `attempts` counts every pass
and `refusals` only the server's 4xx/5xx answers for that email: an email that waited out a
long outage still has its whole allowance when the server greylists it. Without
FOLIO_SMTP_HOST an email is written to the log instead and marked `logged`.

Claiming commits `sending` before the SMTP conversation starts, in a transaction that
locks the rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so
any number of senders deliver each email once. A row still `sending` after its lease ran
out belongs to a sender that died mid-send: whether the server took it is unknown, so it
is marked `failed` (with that reason) rather than sent a second time blindly. A sender
asked to stop (SIGTERM) finishes the email it is sending and returns the rest of its batch
to `pending`, so a shutdown leaves nothing claimed.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import Engine, select, update

from app.config import Settings, get_settings
from app.db import is_unreachable, session_scope
from app.mail.outbox import UnsealError, unseal
from app.models import OutboxEmail, utcnow

log = logging.getLogger("folio.mail")

BATCH_SIZE = 20
LEASE = timedelta(minutes=10)  # far longer than one SMTP conversation (smtp_timeout_seconds)
MAX_RETRY_DELAY = timedelta(hours=1)
INTERRUPTED = "interrupted while sending (delivery unknown); not resent to avoid a duplicate"
# While the mail server is unreachable an email waits this long (its links expire anyway).
UNREACHABLE_GIVE_UP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str
    attempts: int
    refusals: int
    created_at: datetime


class PermanentFailure(Exception):
    """The server refused for good (5xx) or the body cannot be opened: no retry."""


def claim_due(
    settings: Settings, now: datetime, *, engine: Engine | None = None, limit: int = BATCH_SIZE
) -> list[Claimed]:
    with session_scope(write=True, engine=engine) as session:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.status == "sending", OutboxEmail.next_attempt_at <= now)
            .values(status="failed", last_error=INTERRUPTED)
        )
        rows = (
            session.execute(
                select(OutboxEmail)
                .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
                .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        for row in rows:
            row.status = "sending"
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            session.add(row)
        return [
            Claimed(
                row.id,
                row.recipient,
                row.subject,
                row.body_text,
                row.body_html,  # type: ignore[arg-type]
                row.attempts,
                row.refusals,
                row.created_at,
            )
            for row in rows
        ]


def build_message(email: Claimed, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="folio.mail")
    message["Auto-Submitted"] = "auto-generated"
    try:
        message.set_content(unseal(email.body_text, settings))
        message.add_alternative(unseal(email.body_html, settings), subtype="html")
    except UnsealError as exc:
        raise PermanentFailure(str(exc)) from exc
    return message


def _record(
    email: Claimed,
    engine: Engine | None,
    now: datetime,
    *,
    status: str,
    error: str = "",
    retry_at: datetime | None = None,
    refused: bool = False,
) -> None:
    values: dict[str, object] = {"status": status, "last_error": error[:2000]}
    if refused:
        values["refusals"] = OutboxEmail.refusals + 1
    if status in ("sent", "logged"):
        values["sent_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    with session_scope(write=True, engine=engine) as session:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id, OutboxEmail.status == "sending")
            .values(**values)
        )


def _record_failure(
    email: Claimed,
    error: str,
    settings: Settings,
    engine: Engine | None,
    now: datetime,
    *,
    permanent: bool = False,
    refused: bool = False,
    server_unreachable: bool = False,
) -> None:
    """`refused`: the server answered 4xx/5xx for this email (the only failures
    FOLIO_OUTBOX_MAX_ATTEMPTS counts); `server_unreachable`: no answer at all, so only the
    email's age can give it up."""
    refusals = email.refusals + 1 if refused else email.refusals
    if server_unreachable:
        give_up = now - email.created_at >= UNREACHABLE_GIVE_UP
    else:
        give_up = refusals >= settings.outbox_max_attempts
    if permanent or give_up:
        log.error("email %s to %s failed for good: %s", email.id, email.recipient, error)
        _record(email, engine, now, status="failed", error=error, refused=refused)
        return
    delay = timedelta(seconds=settings.outbox_retry_seconds * 2 ** (email.attempts - 1))
    log.warning(
        "email %s to %s failed (attempt %s, refusals %s of %s), retrying: %s",
        email.id,
        email.recipient,
        email.attempts,
        refusals,
        settings.outbox_max_attempts,
        error,
    )
    _record(
        email,
        engine,
        now,
        status="pending",
        error=error,
        retry_at=now + min(delay, MAX_RETRY_DELAY),
        refused=refused,
    )


def _log_instead(email: Claimed, settings: Settings, engine: Engine | None, now: datetime) -> None:
    # No SMTP server configured (development): the text part, links included, goes to the
    # log so the developer can follow them.
    try:
        text = unseal(email.body_text, settings)
    except UnsealError as exc:
        _record_failure(email, str(exc), settings, engine, now, permanent=True)
        return
    log.info(
        "email (FOLIO_SMTP_HOST unset, not sent) to %s: %s\n%s",
        email.recipient,
        email.subject,
        text,
    )
    _record(email, engine, now, status="logged")


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _open_smtp(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(
        settings.smtp_host,
        settings.smtp_port,  # type: ignore[arg-type]
        timeout=settings.smtp_timeout_seconds,
    )
    try:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _release(emails: list[Claimed], engine: Engine | None, now: datetime) -> None:
    """Claimed but not attempted (the sender is stopping): pending again, due now, the
    attempt not counted."""
    with session_scope(write=True, engine=engine) as session:
        for email in emails:
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == email.id, OutboxEmail.status == "sending")
                .values(status="pending", attempts=email.attempts - 1, next_attempt_at=now)
            )


def deliver_due(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    now: datetime | None = None,
    stopping: threading.Event | None = None,
) -> int:
    """Claims one batch of due emails and sends (or logs) it; returns how many it took.
    Once `stopping` is set, the emails not yet attempted are released."""
    settings = settings or get_settings()
    now = now or utcnow()
    claimed = claim_due(settings, now, engine=engine)
    if not claimed:
        return 0
    if not settings.smtp_host:
        for email in claimed:
            _log_instead(email, settings, engine, now)
        return len(claimed)
    remaining = list(claimed)
    try:
        smtp = _open_smtp(settings)
        try:
            while remaining:
                if stopping is not None and stopping.is_set():
                    _release(remaining, engine, now)
                    remaining.clear()
                    break
                email = remaining[0]
                try:
                    smtp.send_message(build_message(email, settings))
                except PermanentFailure as exc:
                    _record_failure(email, str(exc), settings, engine, now, permanent=True)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                    _record_failure(
                        email,
                        repr(exc),
                        settings,
                        engine,
                        now,
                        permanent=_is_permanent(exc),
                        refused=True,
                    )
                else:
                    _record(email, engine, now, status="sent")
                remaining.pop(0)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    except (OSError, smtplib.SMTPException) as exc:
        # The connection failed or dropped: everything not yet settled is tried again later.
        for email in remaining:
            _record_failure(email, repr(exc), settings, engine, now, server_unreachable=True)
    return len(claimed)


class OutboxSender:
    """Runs deliver_due in a background thread until stopped (the app lifespan, `folio worker`)."""

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self.settings = settings or get_settings()
        self.engine = engine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Sends until stop() is called; a database or SMTP outage only delays the next pass."""
        log.info(
            "outbox sender started (%s)",
            f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port}"
            if self.settings.smtp_host
            else "no SMTP host: emails go to the log",
        )
        while not self._stop.is_set():
            try:
                taken = deliver_due(self.settings, engine=self.engine, stopping=self._stop)
            except Exception as exc:
                if is_unreachable(exc):  # one line a pass while the database is down
                    log.warning("outbox sender: database unavailable: %s", str(exc).splitlines()[0])
                else:
                    log.exception("outbox sender pass failed")
                taken = 0
            if taken < BATCH_SIZE:
                self._stop.wait(self.settings.outbox_poll_seconds)
        log.info("outbox sender stopped")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="folio-outbox-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(
                timeout if timeout is not None else self.settings.smtp_timeout_seconds + 5
            )
