"""R-S8: a password set before the address was proven never survives its proof by another."""

from __future__ import annotations

from app.accounts import service
from app.config import get_settings
from app.db import session_scope
from app.models import User
from tests.accounts.conftest import PASSWORD, bearer, password_login
from tests.support.app import create_user

VICTIM = "vic@example.org"
ATTACKER_PASSWORD = "attacker chose this one"


def _register(client, password: str):  # noqa: ANN202
    response = client.post("/api/v1/auth/register", json={"email": VICTIM, "password": password})
    assert response.status_code == 202, response.text
    return response


def test_a_magic_link_sign_in_drops_a_password_set_before_the_address_was_proven(client, mailbox):
    _register(client, ATTACKER_PASSWORD)  # never verified: the link went to the victim
    assert client.post("/api/v1/auth/magic-link", json={"email": VICTIM}).status_code == 202
    signed_in = client.post(
        "/api/v1/auth/magic-link/confirm", json={"token": mailbox.token("magic", to=VICTIM)}
    )
    assert signed_in.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(signed_in.json())).json()["email_verified"]
    assert password_login(client, VICTIM, ATTACKER_PASSWORD).status_code == 401


def test_a_magic_code_sign_in_drops_it_too(client, mailbox):
    _register(client, ATTACKER_PASSWORD)
    client.post("/api/v1/auth/magic-link", json={"email": VICTIM})
    code = mailbox.code(to=VICTIM)
    signed_in = client.post("/api/v1/auth/magic-link/confirm", json={"email": VICTIM, "code": code})
    assert signed_in.status_code == 200
    assert password_login(client, VICTIM, ATTACKER_PASSWORD).status_code == 401


def test_the_owners_registration_link_activates_the_owners_password_only(client, mailbox):
    _register(client, ATTACKER_PASSWORD)
    attackers_link = mailbox.token("verify", to=VICTIM)
    _register(client, PASSWORD)  # the owner signs up later: a new link, bound to this password
    owners_link = mailbox.token("verify", to=VICTIM)
    assert owners_link != attackers_link

    assert client.post("/api/v1/auth/verify", json={"token": owners_link}).status_code == 200
    assert password_login(client, VICTIM, ATTACKER_PASSWORD).status_code == 401
    assert password_login(client, VICTIM, PASSWORD).status_code == 200
    # Once the address is proven, the earlier registration's link is dead.
    assert client.post("/api/v1/auth/verify", json={"token": attackers_link}).status_code == 400
    assert password_login(client, VICTIM, ATTACKER_PASSWORD).status_code == 401


def test_a_later_registration_cannot_replace_the_password_of_a_pending_one(client, mailbox):
    _register(client, PASSWORD)
    owners_link = mailbox.token("verify", to=VICTIM)
    _register(client, ATTACKER_PASSWORD)  # someone else tries the address meanwhile
    assert client.post("/api/v1/auth/verify", json={"token": owners_link}).status_code == 200
    assert password_login(client, VICTIM, PASSWORD).status_code == 200
    assert password_login(client, VICTIM, ATTACKER_PASSWORD).status_code == 401


def test_sessions_opened_before_the_proof_do_not_survive_it(client, mailbox):
    # No route signs an unproven account in; the public function can, so test the rule.
    user_id = create_user(VICTIM, verified=False, password=ATTACKER_PASSWORD)
    with session_scope() as session:
        early = service.issue_tokens(session, session.get(User, user_id), get_settings())
    client.post("/api/v1/auth/magic-link", json={"email": VICTIM})
    proof = client.post(
        "/api/v1/auth/magic-link/confirm", json={"token": mailbox.token("magic", to=VICTIM)}
    )
    assert proof.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(early.model_dump())).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": early.refresh_token})
    assert refreshed.status_code == 401
    assert client.get("/api/v1/me", headers=bearer(proof.json())).status_code == 200
