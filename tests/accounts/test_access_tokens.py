"""R-S2: only well-formed, unexpired access tokens of live users, signed our way, get in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from sqlalchemy import delete, update

from app.config import get_settings
from app.db import session_scope
from app.models import User
from tests.accounts.conftest import PASSWORD, bearer, password_login, sign_up


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user_id: int, **changes: object) -> dict:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + 600, "type": "access"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def signed_up(client, mailbox) -> tuple[int, dict]:
    pair = sign_up(client, mailbox, "ivy@example.org")
    me = client.get("/api/v1/me", headers=bearer(pair))
    assert me.status_code == 200
    return me.json()["id"], pair


def _refused(client, token: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Invalid or expired token"}


def test_alg_none_is_refused(client, signed_up):
    user_id, _ = signed_up
    _refused(client, f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user_id))}.")


def test_a_token_signed_with_another_key_is_refused(client, signed_up):
    user_id, _ = signed_up
    _refused(client, jwt.encode(_claims(user_id), "another-key-" * 4, algorithm="HS256"))


def test_hs512_is_refused_when_hs256_is_configured(client, signed_up):
    user_id, _ = signed_up
    secret = get_settings().secret_key
    _refused(client, jwt.encode(_claims(user_id), secret, algorithm="HS512"))


def test_a_token_without_exp_is_refused(client, signed_up):
    user_id, _ = signed_up
    secret = get_settings().secret_key
    _refused(client, jwt.encode(_claims(user_id, exp=None), secret, algorithm="HS256"))


def test_an_expired_token_is_refused(client, signed_up):
    user_id, _ = signed_up
    past = int(time.time()) - 3600
    secret = get_settings().secret_key
    _refused(
        client, jwt.encode(_claims(user_id, iat=past - 900, exp=past), secret, algorithm="HS256")
    )


def test_a_token_of_another_type_is_refused(client, signed_up):
    user_id, _ = signed_up
    secret = get_settings().secret_key
    _refused(client, jwt.encode(_claims(user_id, type="refresh"), secret, algorithm="HS256"))
    _refused(client, jwt.encode(_claims(user_id, type=None), secret, algorithm="HS256"))


def test_a_tampered_sub_is_refused(client, signed_up, make_account):
    _, pair = signed_up
    other = make_account("other@example.org")
    header, payload, signature = pair["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(other.id)
    _refused(client, f"{header}.{_b64(claims)}.{signature}")


def test_a_refresh_token_is_not_an_access_token(client, signed_up):
    _, pair = signed_up
    _refused(client, pair["refresh_token"])


def test_garbage_is_refused_not_a_crash(client, signed_up):
    for token in ("x", "a.b.c", "..", "%C3%A9" * 10, f"{_b64({'alg': 'HS256'})}.e30.AAAA"):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_a_disabled_users_token_stops_working_on_the_next_request(client, signed_up):
    user_id, pair = signed_up
    with session_scope() as session:
        session.execute(update(User).where(User.id == user_id).values(disabled=True))
    _refused(client, pair["access_token"])
    assert password_login(client, "ivy@example.org").status_code == 403


def test_a_deleted_users_token_is_refused(client, signed_up):
    user_id, pair = signed_up
    with session_scope() as session:
        session.execute(delete(User).where(User.id == user_id))
    _refused(client, pair["access_token"])


def test_tokens_issued_before_a_password_change_are_refused(client, signed_up):
    _, pair = signed_up
    changed = client.patch(
        "/api/v1/me",
        headers=bearer(pair),
        json={"current_password": PASSWORD, "password": "new passphrase 7"},
    )
    assert changed.status_code == 200, changed.text
    _refused(client, pair["access_token"])
    fresh = password_login(client, "ivy@example.org", "new passphrase 7")
    assert client.get("/api/v1/me", headers=bearer(fresh.json())).status_code == 200


def _rsa_pem() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_when_keys_are_configured_and_hs256_is_then_refused(client_with, make_account):
    private, public = _rsa_pem()
    hs256_secret = get_settings().secret_key
    rs = client_with(jwt_private_key=private, jwt_public_key=public)
    account = make_account("rsa@example.org")
    token = account.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert rs.get("/api/v1/me", headers=account.headers).status_code == 200
    hs256 = jwt.encode(_claims(account.id), hs256_secret, algorithm="HS256")
    assert rs.get("/api/v1/me", headers={"Authorization": f"Bearer {hs256}"}).status_code == 401
    # Algorithm confusion: the public key used as an HMAC secret.
    forged = _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(_claims(account.id))
    signature = (
        base64.urlsafe_b64encode(
            hmac.new(public.encode(), forged.encode(), hashlib.sha256).digest()
        )
        .rstrip(b"=")
        .decode()
    )
    assert (
        rs.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}.{signature}"}).status_code
        == 401
    )
