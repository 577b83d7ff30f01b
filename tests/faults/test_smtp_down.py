"""F5: the mail server is down while readers register and reset passwords, then returns.

Requests that send email still answer 202 (the email is only written to the outbox); the
outbox keeps each email pending, retrying with a growing delay, past the attempt limit (which
counts only the server's refusals, so a greylisting answer after the outage is retried);
once the server is back each email arrives exactly once.
"""

from __future__ import annotations

import time

import httpx

from tests.faults.mail_server import SwitchableSmtp, outbox_rows
from tests.support.app import create_user
from tests.support.served import served
from tests.support.waiting import wait_for

SENDER = {
    "FOLIO_OUTBOX_SENDER": "on",
    "FOLIO_OUTBOX_POLL_SECONDS": "0.05",
    "FOLIO_OUTBOX_RETRY_SECONDS": "0.1",  # then 0.2, 0.4, 0.8 …
    "FOLIO_OUTBOX_MAX_ATTEMPTS": "3",  # an outage outlasts it: nothing may be given up
    "FOLIO_SMTP_TIMEOUT_SECONDS": "2",
}


def test_smtp_down_keeps_emails_pending_with_backoff_and_delivers_each_once_when_back(tmp_path):
    create_user("known@example.org")
    smtp = SwitchableSmtp()  # not listening yet: the mail server is down
    try:
        with served(tmp_path, env={**SENDER, **smtp.env()}) as server:
            with httpx.Client(base_url=server.base, timeout=10) as client:
                for email in ("new1@example.org", "new2@example.org"):
                    response = client.post(
                        "/api/v1/auth/register",
                        json={"email": email, "password": "long passphrase"},
                    )
                    assert response.status_code == 202, response.text
                response = client.post(
                    "/api/v1/auth/password-reset", json={"email": "known@example.org"}
                )
                assert response.status_code == 202, response.text
            recipients = {"new1@example.org", "new2@example.org", "known@example.org"}

            # Down: retried past FOLIO_OUTBOX_MAX_ATTEMPTS, each time later, never given up.
            retry_times: dict[int, list] = {}

            def retried_past_the_limit() -> bool:
                rows = outbox_rows()
                assert {r.status for r in rows} <= {"pending", "sending"}, [
                    (r.recipient, r.status, r.last_error) for r in rows
                ]
                for row in rows:
                    if row.status == "pending":
                        seen = retry_times.setdefault(row.id, [])
                        if not seen or seen[-1] != (row.attempts, row.next_attempt_at):
                            seen.append((row.attempts, row.next_attempt_at))
                return len(rows) == 3 and all(r.attempts >= 5 for r in rows)

            wait_for(retried_past_the_limit, 20, "5 attempts of every email")
            for seen in retry_times.values():
                gaps = [
                    (later[1] - earlier[1]).total_seconds()
                    for earlier, later in zip(seen, seen[1:], strict=False)
                    if later[0] == earlier[0] + 1
                ]
                assert len(gaps) >= 2 and gaps[-1] > gaps[0], seen  # the delay grows

            smtp.start()
            wait_for(lambda: all(r.status == "sent" for r in outbox_rows()), 30, "all emails sent")
            time.sleep(0.5)  # room for a duplicate to show up, if there were one
            assert sorted(m["To"] for m in smtp.messages) == sorted(recipients)
            assert server.process.poll() is None
    finally:
        smtp.stop()


def test_after_an_outage_longer_than_the_limit_a_greylisting_answer_is_retried_not_failed(
    tmp_path,
):
    smtp = SwitchableSmtp()  # down
    try:
        with served(tmp_path, env={**SENDER, **smtp.env()}) as server:
            with httpx.Client(base_url=server.base, timeout=10) as client:
                response = client.post(
                    "/api/v1/auth/register",
                    json={"email": "grey@example.org", "password": "long passphrase"},
                )
                assert response.status_code == 202, response.text

            def pending_past_the_limit() -> bool:
                rows = outbox_rows()
                assert {r.status for r in rows} <= {"pending", "sending"}, rows
                return len(rows) == 1 and rows[0].attempts >= 4 and rows[0].status == "pending"

            wait_for(pending_past_the_limit, 20, "more passes than FOLIO_OUTBOX_MAX_ATTEMPTS")
            smtp.defer("grey@example.org", times=1)  # back, greylisting the first delivery
            smtp.start()
            wait_for(lambda: outbox_rows()[0].status not in ("pending", "sending"), 30, "settled")
            [row] = outbox_rows()
            assert (row.status, row.refusals) == ("sent", 1), row.last_error
            assert smtp.deferrals_left("grey@example.org") == 0
            time.sleep(0.5)  # room for a duplicate to show up, if there were one
            assert [m["To"] for m in smtp.messages] == ["grey@example.org"]
    finally:
        smtp.stop()
