"""F1: PostgreSQL stops under a running `folio serve`, then comes back.

Liveness stays up, readiness and every request that needs the database answer 503 quickly
(JSON for the API, a page for pages, a 5xx for Stripe so it retries), and the first
request after the database returns succeeds without restarting Folio.
"""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from app.accounts.passwords import hash_password
from app.db import build_engine, session_scope
from app.models import User, utcnow
from tests.faults.pg_cluster import postgres_cluster
from tests.support.served import FOLIO, ROOT, served
from tests.support.stripe_events import WEBHOOK_SECRET, event, sign, subscription

PASSWORD = "correct horse battery staple"
QUICK = 5.0  # seconds: an outage is answered, not waited out


def _add_reader(url: str) -> None:
    engine = build_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with session_scope(engine=engine) as session:
            session.add(
                User(
                    email="reader@example.org",
                    name="Reader",
                    password_hash=hash_password(PASSWORD),
                    email_verified_at=utcnow(),
                )
            )
    finally:
        engine.dispose()


def _timed(call, *args, **kwargs) -> httpx.Response:  # noqa: ANN001
    started = time.monotonic()
    response = call(*args, timeout=QUICK + 5, **kwargs)
    took = time.monotonic() - started
    assert took < QUICK, f"{args[0]} took {took:.1f} s"
    return response


def _login(client: httpx.Client) -> httpx.Response:
    return _timed(
        client.post,
        "/api/v1/auth/login",
        data={"username": "reader@example.org", "password": PASSWORD},
    )


def _assert_api_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"]
    assert "Traceback" not in response.text
    assert response.headers.get("Retry-After")


def test_database_down_answers_503_quickly_and_recovers_without_restart(tmp_path):
    with postgres_cluster() as cluster:
        env = {"FOLIO_DATABASE_URL": cluster.url, "FOLIO_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        subprocess.run(
            [str(FOLIO), "migrate"],
            cwd=ROOT,
            env={**_environ(), **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
        _add_reader(cluster.url)
        with served(tmp_path, env=env) as server, httpx.Client(base_url=server.base) as client:
            signed_in = _login(client)
            assert signed_in.status_code == 200, signed_in.text
            bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            assert client.get("/api/v1/reports").status_code == 200

            cluster.stop()

            assert _timed(client.get, "/healthz").status_code == 200
            _assert_api_unavailable(_timed(client.get, "/readyz"))
            _assert_api_unavailable(_timed(client.get, "/api/v1/reports"))
            _assert_api_unavailable(_timed(client.get, "/api/v1/me", headers=bearer))
            _assert_api_unavailable(_login(client))
            body = event("customer.subscription.updated", subscription("sub_down"))
            webhook = _timed(
                client.post,
                "/webhooks/stripe",
                content=body,
                headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
            )
            assert webhook.status_code >= 500  # Stripe delivers it again later
            page = _timed(client.get, "/")
            assert page.status_code == 503
            assert page.headers["content-type"].startswith("text/html")
            assert "Traceback" not in page.text

            cluster.start()

            me = _timed(client.get, "/api/v1/me", headers=bearer)
            assert me.status_code == 200, me.text
            assert _login(client).status_code == 200
            assert _timed(client.get, "/readyz").status_code == 200
            assert _timed(client.get, "/").status_code == 200


def _environ() -> dict[str, str]:
    return dict(os.environ)
