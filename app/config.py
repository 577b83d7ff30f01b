"""Settings from the environment (FOLIO_ prefix); production refuses weak secrets.

Without FOLIO_SECRET_KEY (outside production) each installation uses a random secret it
generated for itself and keeps in FOLIO_DATA_DIR/.folio-secret.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

# The value earlier versions used when FOLIO_SECRET_KEY was unset, and the test suite's:
# both are public, so anyone could sign tokens with them.
DEFAULT_SECRET_KEY = "dev-secret-key-change-me-dev-secret-key-change-me"  # noqa: S105
PUBLISHED_SECRET_KEYS = frozenset(
    {DEFAULT_SECRET_KEY, "test-secret-key-0123456789abcdef0123456789", "change-me", "secret"}
)
MIN_SECRET_KEY_LENGTH = 32  # RFC 7518 §3.2: an HS256 key needs at least 256 bits
SECRET_FILE_NAME = ".folio-secret"  # noqa: S105  (a file name)


def installation_secret(data_dir: Path) -> str:
    """This installation's own random secret, made on first use and kept in `data_dir`.

    It is written to a private temporary file and hard-linked into place, which fails if
    the file exists: several workers starting at once all end up reading the one winner.
    """
    path = data_dir / SECRET_FILE_NAME
    if not path.exists():
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            descriptor, draft = tempfile.mkstemp(dir=data_dir, prefix=f"{SECRET_FILE_NAME}.")
        except OSError as exc:
            raise ValueError(
                f"cannot create {path} ({exc.strerror}): set FOLIO_SECRET_KEY"
            ) from None
        try:
            with os.fdopen(descriptor, "w") as draft_file:  # mkstemp made it mode 0600
                draft_file.write(secrets.token_urlsafe(48) + "\n")
                draft_file.flush()
                os.fsync(draft_file.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(draft, path)
        finally:
            os.unlink(draft)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read {path} ({exc.strerror}): set FOLIO_SECRET_KEY") from None
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"{path} holds no usable secret: delete it to make a new one")
    return value


class Settings(BaseSettings):
    # hide_input_in_errors: a refused secret (or a URL with a password) is never echoed.
    model_config = SettingsConfigDict(
        env_prefix="FOLIO_", env_file=None, extra="ignore", hide_input_in_errors=True
    )

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///./folio.db"
    # Empty: this installation's generated secret (see installation_secret), except in
    # production, which must be told one (every host behind the balancer shares it).
    secret_key: str = Field("", repr=False)
    data_dir: Path = Path(".")
    base_url: str = "http://127.0.0.1:8000"
    site_name: str = Field("Folio", min_length=1, max_length=100)  # the pages' masthead

    jwt_private_key: str | None = None  # PEM; RS256 is used when both keys are set
    jwt_public_key: str | None = None
    access_token_minutes: int = Field(15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(30, ge=1, le=365)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Folio <no-reply@folio.localhost>"
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    outbox_poll_seconds: float = Field(1.0, gt=0)
    # The app's lifespan runs the outbox sender: on/off; unset means on, except under tests.
    outbox_sender: bool | None = None
    # Refusals (4xx) of one email before it is failed; passes during an outage do not count.
    outbox_max_attempts: int = Field(6, ge=1, le=50)
    outbox_retry_seconds: float = Field(30.0, gt=0)  # first retry; doubles on each failure
    emails_per_address_per_hour: int = Field(3, ge=1)  # per kind (verify, reset, magic, ...)

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None  # several secrets during a roll: comma-separated
    stripe_api_base: str | None = None
    # The longest a request waits on the Stripe API in all (every attempt and the pauses
    # between them) before it answers 503; a retried create reuses its idempotency key.
    stripe_timeout_seconds: float = Field(10.0, gt=0, le=120)
    stripe_max_network_retries: int = Field(2, ge=0, le=5)

    redis_url: str | None = None
    # With FOLIO_REDIS_URL: the pub/sub channel that carries generation bumps between hosts
    # (app.generation_relay). Installations sharing one Redis need channels of their own.
    generation_channel: str = Field("folio-generations", min_length=1)
    # Comma-separated CIDRs, e.g. "10.0.0.0/8,::1".
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    preview_paragraphs: int = Field(3, ge=1, le=50)
    # The feeds' <language>: a language tag such as en, fr or pt-BR.
    feed_language: str = Field("en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    metered_free_reads: int = Field(0, ge=0)
    # Reading events: recorded off the request (app/usage/recorder.py); raw events are kept
    # this many days, then pruned once aggregated (metered reading looks back 30 days).
    usage_recording: bool = True
    usage_retention_days: int = Field(90, ge=31, le=3660)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    # Threads serving sync routes in each worker; its database pool holds as many
    # connections (plus a few), so a thread never waits for one (R-S7).
    worker_threads: int = Field(40, ge=1, le=1000)
    # The longest a request waits for a pool connection, a row lock or SQLite's writer lock
    # before it is answered 503 with Retry-After.
    db_wait_seconds: float = Field(3.0, gt=0, le=60)
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 50
    # Register, password-reset and magic-link requests (each sends an email) per client IP.
    account_requests_per_ip: int = 20
    throttle_window_seconds: int = Field(15 * 60, ge=1)
    throttle_key_prefix: str = "folio"  # Redis key prefix of the throttle counters
    # Searches per minute per client (a member by account, anyone else by client IP).
    search_requests_per_minute: int = Field(60, ge=1)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_driver(cls, value: str) -> str:
        # Heroku-style and bare postgresql:// URLs are pointed at psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                value = "postgresql+psycopg://" + value[len(prefix) :]
                break
        try:
            make_url(value).get_dialect()
        except NoSuchModuleError:  # a subclass of ArgumentError: first
            raise ValueError("names a database driver that is not installed") from None
        except ArgumentError:
            raise ValueError(
                "not a database URL (e.g. sqlite:///./folio.db or postgresql://user@host/db)"
            ) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secret_fit_for_the_environment(self) -> Settings:
        if self.env == "production":
            if self.secret_is_published or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    "FOLIO_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_KEY_LENGTH} characters in production"
                )
        elif not self.secret_key:
            self.secret_key = installation_secret(self.data_dir)
        return self

    @property
    def secret_is_published(self) -> bool:
        """The secret is one anybody can read (this repository's defaults)."""
        return self.secret_key in PUBLISHED_SECRET_KEYS

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def outbox_sender_enabled(self) -> bool:
        return self.outbox_sender if self.outbox_sender is not None else self.env != "test"

    @property
    def jwt_algorithm(self) -> str:
        return "RS256" if self.jwt_private_key and self.jwt_public_key else "HS256"

    @property
    def stripe_configured(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def stripe_webhook_secrets(self) -> list[str]:
        raw = self.stripe_webhook_secret or ""
        return [part.strip() for part in raw.split(",") if part.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
