"""Account logic: registration, verification, sign-in (password, refresh, magic link), reset.

Nothing here says whether an address has an account: register, reset and magic-link
requests do the same visible thing for every address (R-S4), and sign-in failures read
alike. Services only flush; the request's transaction commits (app.deps.get_session).

Until an address is proven no password signs in, and a password chosen before the proof
survives it only when the proof is that registration's own verification link (R-S8).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.access import Member
from app.accounts import one_time, refresh
from app.accounts.passwords import (
    check_password_length,
    check_password_rules,
    hash_password,
    verify_password,
)
from app.accounts.schemas import MAX_PASSWORD_INPUT, MagicLinkConfirm, RegisterIn, TokenPair
from app.accounts.tokens import issue_access_token
from app.config import Settings
from app.db import reading_apart
from app.errors import BadRequest, Forbidden, Unauthorized
from app.mail.outbox import enqueue_email, may_send
from app.models import OutboxEmail, User, utcnow

BAD_CREDENTIALS = "Incorrect email or password"
DISABLED = "This account is disabled"
LINK_PATHS = {"verify": "verify", "reset": "reset", "account_exists": "reset", "magic": "magic"}
SUPPRESSED = "suppressed"  # an outbox status: written for an address without account, never sent


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def _usable(user: User | None) -> bool:
    return user is not None and not user.disabled and user.erased_at is None


def _stored_hash(session: Session, email: str) -> str | None:
    return session.execute(
        select(User.password_hash).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def authenticate(session: Session, email: str, password: str) -> User:
    """The account these credentials sign in to. argon2 (~0.1 s of CPU) runs before
    `session`'s transaction begins, on a hash read apart (app.db.reading_apart): a wrong
    password never takes SQLite's write lock, a right one takes it only to write."""
    # verify_password runs a dummy argon2 verification for unknown emails: same cost, same 401.
    if len(password) > MAX_PASSWORD_INPUT:
        raise Unauthorized(BAD_CREDENTIALS)  # no stored password is that long: spare argon2
    with reading_apart(session) as reader:
        checked_hash = _stored_hash(reader, email)
    ok, new_hash = verify_password(password, checked_hash)
    if not ok:
        raise Unauthorized(BAD_CREDENTIALS)
    user = user_by_email(session, email)  # the account as it is now, in the writer
    if user is not None and user.password_hash != checked_hash:
        # Changed between the two reads (a reset, an erasure): checked again, rarely.
        ok, new_hash = verify_password(password, user.password_hash)
    if user is None or not ok or user.erased_at is not None:
        raise Unauthorized(BAD_CREDENTIALS)
    if user.disabled:
        raise Forbidden(DISABLED)
    if user.email_verified_at is None:
        raise Forbidden("Verify your email address first")
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    return user


def issue_tokens(
    session: Session, user: User, settings: Settings, now: datetime | None = None
) -> TokenPair:
    """A new sign-in: an access token and the first refresh token of a new family."""
    now = now or utcnow()
    family = refresh.new_family()
    return TokenPair(
        access_token=issue_access_token(user.id, family, settings, now),  # type: ignore[arg-type]
        refresh_token=refresh.issue_refresh_token(session, user.id, settings, now, family),  # type: ignore[arg-type]
        expires_in=settings.access_token_minutes * 60,
    )


def refresh_tokens(session: Session, token: str, settings: Settings, now: datetime) -> TokenPair:
    user, next_refresh, family = refresh.rotate_refresh_token(session, token, settings, now)
    return TokenPair(
        access_token=issue_access_token(user.id, family, settings, now),  # type: ignore[arg-type]
        refresh_token=next_refresh,
        expires_in=settings.access_token_minutes * 60,
    )


def log_out(session: Session, token: str, now: datetime) -> None:
    """Revokes the refresh family, and so the access tokens naming it (`sid`) at once."""
    refresh.revoke_family_of(session, token, now)


def _email_link(
    session: Session,
    settings: Settings,
    user: User,
    template: str,
    purpose: str,
    now: datetime,
    password_hash: str | None = None,
) -> None:
    """Writes one link email unless the address had its hourly share of this kind."""
    if not may_send(session, user.email, template, settings, now):
        return
    token, code = one_time.create_one_time_token(
        session,
        user.id,  # type: ignore[arg-type]
        purpose,
        settings,
        now,
        password_hash,
    )
    # Links are built from FOLIO_BASE_URL only, never from the request's Host header.
    link = f"{settings.base_url}/{LINK_PATHS[template]}?token={token}"
    enqueue_email(
        session,
        settings,
        recipient=user.email,
        template=template,
        context={"link": link, "code": code},
        now=now,
    )


def _email_link_to_address(
    session: Session, settings: Settings, email: str, template: str, purpose: str, now: datetime
) -> None:
    """A reset or magic-link request: the same statements, writes and rendering whether or
    not the address has a usable account (R-S4). The token row is inserted only where the
    account exists (INSERT … SELECT); the email row always, marked suppressed where not."""
    email = normalise_email(email)
    if not may_send(session, email, template, settings, now):
        return
    token, code = one_time.create_for_address(session, email, purpose, settings, now)
    queued = enqueue_email(
        session,
        settings,
        recipient=email,
        template=template,
        context={"link": f"{settings.base_url}/{LINK_PATHS[template]}?token={token}", "code": code},
        now=now,
    )
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == queued.id, ~exists(one_time.usable_account(email)))
        .values(status=SUPPRESSED)
        .execution_options(synchronize_session=False)
    )


def _prove_address(session: Session, user: User, password_hash: str | None, now: datetime) -> bool:
    """Marks the address proven with `password_hash` (None: no password) as the one password
    that survives; other verification links and every earlier session end. False when a
    concurrent proof got there first."""
    proven = session.execute(
        update(User)
        .where(User.id == user.id, User.email_verified_at.is_(None))
        .values(email_verified_at=now, password_hash=password_hash, tokens_valid_after=now)
        .execution_options(synchronize_session="evaluate")
    )
    if proven.rowcount != 1:
        return False
    one_time.retire(session, user.id, (one_time.VERIFY,), now)  # type: ignore[arg-type]
    refresh.revoke_all_for_user(session, user.id, now)  # type: ignore[arg-type]
    return True


def register(session: Session, settings: Settings, data: RegisterIn, now: datetime) -> None:
    """A new address gets an account and a verification link; an unproven one, another
    verification link; a proven one, a notice with a reset link. Each verification link
    carries its own registration's password: only that link can make it the account's.
    Every path hashes a password, so they take the same time."""
    email = normalise_email(data.email)
    check_password_rules(data.password, email)
    password_hash = hash_password(data.password)
    existing = user_by_email(session, email)
    if existing is None:
        user = User(email=email, name=data.name, password_hash=password_hash, created_at=now)
        try:
            with session.begin_nested():
                session.add(user)
                session.flush()
        except IntegrityError:
            # Registered by a concurrent request a moment ago: the address is taken now.
            existing = user_by_email(session, email)
        else:
            _email_link(session, settings, user, "verify", one_time.VERIFY, now, password_hash)
            return
    if not _usable(existing):
        return
    if existing.email_verified_at is None:  # type: ignore[union-attr]
        # Pending: this password is not the account's, and no earlier link can make it so.
        _email_link(session, settings, existing, "verify", one_time.VERIFY, now, password_hash)  # type: ignore[arg-type]
    else:
        _email_link(session, settings, existing, "account_exists", one_time.RESET, now)  # type: ignore[arg-type]


def verify_email(session: Session, settings: Settings, token: str, now: datetime) -> TokenPair:
    """The link proves the address; the password of the registration that sent it becomes
    the account's (a link from before this change, carrying none, leaves no password)."""
    row = one_time.redeem(session, token, one_time.VERIFY, now)
    user = session.get(User, row.user_id)
    if not _usable(user):
        raise Forbidden(DISABLED)
    if user.email_verified_at is None and not _prove_address(  # type: ignore[union-attr]
        session,
        user,  # type: ignore[arg-type]
        row.password_hash,
        now,
    ):
        raise BadRequest(one_time.DEAD_LINK)  # another link proved it a moment ago
    return issue_tokens(session, user, settings, now)  # type: ignore[arg-type]


def request_password_reset(session: Session, settings: Settings, email: str, now: datetime) -> None:
    _email_link_to_address(session, settings, email, "reset", one_time.RESET, now)


def set_password(
    session: Session,
    settings: Settings,
    user: User,
    password: str,
    now: datetime,
    password_hash: str,
) -> None:
    """Stores a new password and ends every session: refresh families revoked, access
    tokens issued before now refused (ASVS V7.4.3). Every emailed link and the private
    feed token die with the old credentials (R-S8); the owner is told by email.
    `password_hash`: the password's hash, made before the write transaction began."""
    check_password_rules(password, user.email)
    user.password_hash = password_hash
    user.tokens_valid_after = now
    user.feed_token_hash = None  # the old feed URL serves full text to whoever holds it
    session.add(user)
    refresh.revoke_all_for_user(session, user.id, now)  # type: ignore[arg-type]
    one_time.retire(session, user.id, (one_time.RESET, one_time.MAGIC, one_time.VERIFY), now)  # type: ignore[arg-type]
    if may_send(session, user.email, "password_changed", settings, now):
        enqueue_email(
            session,
            settings,
            recipient=user.email,
            template="password_changed",
            context={},
            now=now,
        )


def confirm_password_reset(
    session: Session, settings: Settings, token: str, password: str, now: datetime
) -> None:
    """No sign-in follows (OWASP): the reader signs in with the new password."""
    check_password_length(password)
    # Hashed before the link is spent: the write transaction (SQLite's write lock) begins
    # at redeem, and argon2 is not to run inside it. A dead link is refused first, read
    # apart, so a made-up token costs a lookup, never an argon2 hash.
    with reading_apart(session) as reader:
        if not one_time.is_live(reader, token, one_time.RESET, now):
            raise BadRequest(one_time.DEAD_LINK)
    password_hash = hash_password(password)
    row = one_time.redeem(session, token, one_time.RESET, now)
    user = session.get(User, row.user_id)
    if not _usable(user):
        raise Forbidden(DISABLED)
    set_password(session, settings, user, password, now, password_hash)  # type: ignore[arg-type]
    if user.email_verified_at is None:  # type: ignore[union-attr]
        user.email_verified_at = now  # type: ignore[union-attr]  (the link proved the mailbox)


def request_magic_link(session: Session, settings: Settings, email: str, now: datetime) -> None:
    _email_link_to_address(session, settings, email, "magic", one_time.MAGIC, now)


def confirm_magic_link(
    session: Session, settings: Settings, data: MagicLinkConfirm, now: datetime
) -> TokenPair:
    if data.token is not None:
        row = one_time.redeem_magic_link(session, data.token, now)
    else:
        user = user_by_email(session, data.email or "")
        user_id = user.id if user is not None and user.erased_at is None else None
        row = one_time.redeem_magic_code(session, user_id, data.code or "", settings, now)
    user = session.get(User, row.user_id)
    if not _usable(user):
        raise Forbidden(DISABLED)
    if user.email_verified_at is None:  # type: ignore[union-attr]
        # The mailbox is proven by someone who chose no password: none set before survives.
        _prove_address(session, user, None, now)  # type: ignore[arg-type]
    return issue_tokens(session, user, settings, now)  # type: ignore[arg-type]


def create_or_promote_admin(session: Session, email: str, password: str, name: str = "") -> User:
    user = user_by_email(session, email)
    now = utcnow()
    if user is None:
        user = User(email=normalise_email(email), name=name or "Administrator")
    user.password_hash = hash_password(password)
    user.role = "admin"
    user.disabled = False
    user.email_verified_at = user.email_verified_at or now
    user.tokens_valid_after = now
    session.add(user)
    session.flush()
    return user


def member_of(user: User, client_ip: str | None = None) -> Member:
    """The viewer a user is, as the access decision sees them."""
    return Member(
        id=user.id,  # type: ignore[arg-type]
        email=user.email,
        role=user.role,
        email_verified=user.email_verified_at is not None,
        name=user.name,
        client_ip=client_ip,
    )
