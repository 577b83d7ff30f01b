"""Account API shapes: what readers send (unknown fields ignored, never applied) and get."""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.instants import Instant

MAX_EMAIL_LENGTH = 320
# Bounded well above the password rules (10-256, checked by the service with clear
# messages) so a huge value is refused before any hashing.
MAX_PASSWORD_INPUT = 1024


def _valid_email(value: str) -> str:
    try:
        # test_environment: `.test` addresses are valid in development and tests.
        validate_email(value.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return value.strip().lower()


Email = Annotated[
    str, Field(min_length=3, max_length=MAX_EMAIL_LENGTH), AfterValidator(_valid_email)
]
Password = Annotated[str, Field(max_length=MAX_PASSWORD_INPUT)]
Secret = Annotated[str, Field(min_length=1, max_length=200)]


def _clean_name(value: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("a name cannot contain control characters")
    return value.strip()


Name = Annotated[str, Field(max_length=200), AfterValidator(_clean_name)]


class Body(BaseModel):
    # Unknown fields (role, email_verified, disabled, ...) are dropped, never applied (R-S5).
    model_config = ConfigDict(extra="ignore")


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str | None = None
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type)
    expires_in: int


class Accepted(BaseModel):
    detail: str


class RegisterIn(Body):
    email: Email
    password: Password
    name: Name = ""


class TokenIn(Body):
    token: Secret


class RefreshIn(Body):
    refresh_token: Secret


class EmailIn(Body):
    email: Email


class PasswordResetConfirm(Body):
    token: Secret
    password: Password


class MagicLinkConfirm(Body):
    """Either the link's token, or the address and the 6-digit code from the email."""

    token: Secret | None = None
    email: Email | None = None
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None

    @model_validator(mode="after")
    def _token_or_code(self) -> MagicLinkConfirm:
        if self.token is None and (self.email is None or self.code is None):
            raise ValueError("send either `token`, or `email` and `code`")
        if self.token is not None and (self.email is not None or self.code is not None):
            raise ValueError("send either `token`, or `email` and `code`, not both")
        return self


class MeUpdate(Body):
    """What a reader may change of their own account; any other field is ignored."""

    name: Name | None = None
    password: Password | None = None
    current_password: Password | None = None


class EntitlementOut(BaseModel):
    collection: str
    tier: str
    source: str  # stripe | comp | organization
    until: Instant | None
    organization: str | None = None  # the licence holder, when source is organization


class SubscriptionOut(BaseModel):
    id: int
    tier: str | None
    source: str
    status: str
    current_period_end: Instant | None
    cancel_at_period_end: bool


class SubscriptionRequestIn(Body):
    organization: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=5000)
    tier: str | None = Field(default=None, min_length=1, max_length=120)


class SubscriptionRequestOut(BaseModel):
    id: int
    organization: str
    message: str
    tier: str | None
    status: str
    created_at: Instant
    decided_at: Instant | None


class Me(BaseModel):
    id: int
    email: str
    name: str
    role: str
    email_verified: bool
    created_at: Instant
    entitlements: list[EntitlementOut]
    subscriptions: list[SubscriptionOut]
    subscription_requests: list[SubscriptionRequestOut]


class FeedTokenOut(BaseModel):
    token: str
    url: str
