"""Who an access token's viewer is and what they hold, kept per worker (issue 12, R-A1).

The entitled read's remaining cost was the database round trip for two answers that
change only when someone writes: the token's live session (the user's role, verified
email, disabled, erased, password change; the refresh family not revoked) and the
viewer's entitlements (app.holdings.load_entitlements). Each worker keeps both in a small
LRU, good while the access generation (app.access_generation) is the one read BEFORE the
rows were: every commit that writes users, refresh-token revocations, subscriptions,
organizations and their ranges or domains, tiers or their collections bumps it AFTER the
commit, so a revocation through any worker is honoured by every worker on its next
request.

Time is never kept: the token's signature and `exp` are checked on every request
(app.accounts.tokens), the token's issue time against the user's password change too, and
each entitlement carries its `until`, which the pure rules (app.access) compare with now
on every read. A kept list only ever holds too much for an instant that has passed, never
too little: nothing starts granting by time alone.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlmodel import Session

from app.access import Entitlement, Member, Viewer
from app.access_generation import current_access_generation
from app.accounts.refresh import live_session_row, member_for_token
from app.config import Settings
from app.generation import GenerationCache, Kept
from app.holdings import load_entitlements


def access_cache_of(state: Any) -> GenerationCache:
    """This worker's (this app's) kept viewers and holdings, on the app's state."""
    cache = getattr(state, "access_cache", None)
    if cache is None:
        cache = state.access_cache = GenerationCache()
    return cache


@dataclass(frozen=True, slots=True)
class KeptAccess(Kept):
    """A request's view of the worker's access cache: the generation it read first."""

    @classmethod
    def now(cls, cache: GenerationCache) -> KeptAccess:
        return cls(cache, current_access_generation())

    def member_for_token(
        self, session: Session, token: str, settings: Settings, client_ip: str | None
    ) -> Member:
        """app.accounts.refresh.member_for_token, its session row kept (a dead one too)."""

        def kept_row(user_id: int, family: str) -> Any:
            return self.get(
                ("session", user_id, family), lambda: live_session_row(session, user_id, family)
            )

        return member_for_token(session, token, settings, client_ip, kept_row)

    def entitlements(self, session: Session, viewer: Viewer, now: datetime) -> list[Entitlement]:
        """app.holdings.load_entitlements, kept by what it depends on: the member (their
        verified email's domain) and the client's address (licensed ranges)."""
        if isinstance(viewer, Member):
            key: Hashable = ("held", viewer.id, viewer.email_verified, viewer.email_domain)
        else:
            key = ("held", None, False, None)
        return self.get((*key, viewer.client_ip), lambda: load_entitlements(session, viewer, now))


class NeedsDatabase(Exception):  # noqa: N818  (a signal, not an error)
    """A read asked for something this worker does not keep."""


class NoDatabase:
    """Stands for the session on a read tried from kept answers only: any use of it means
    something is not kept, and the caller does the read again with a real session."""

    def __getattr__(self, name: str) -> NoReturn:
        raise NeedsDatabase(name)


NO_DATABASE: Any = NoDatabase()
