"""R-S4: reset and magic-link requests do the same work for every address.

Asserted on the SQL statements that run, never on wall-clock time.
"""

from __future__ import annotations

import pytest

from tests.support.app import create_user
from tests.support.statements import statements


@pytest.mark.parametrize("path", ["/api/v1/auth/password-reset", "/api/v1/auth/magic-link"])
def test_known_unknown_and_disabled_addresses_run_the_same_statements(client, mailbox, path):
    create_user("known@example.org")
    create_user("off@example.org", disabled=True)
    runs = []
    for email in ("known@example.org", "nobody@example.org", "off@example.org"):
        with statements() as seen:
            assert client.post(path, json={"email": email}).status_code == 202
        runs.append(seen)
    known, unknown, disabled = runs
    assert known == unknown == disabled
    assert any(s.lstrip().upper().startswith("INSERT") for s in known)  # both write alike
    mailbox.deliver()
    assert len(mailbox.to("known@example.org")) == 1
    assert mailbox.to("nobody@example.org") == mailbox.to("off@example.org") == []
