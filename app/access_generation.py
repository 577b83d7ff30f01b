"""The access generation: every worker's kept viewers and holdings go stale together.

A worker keeps who an access token's viewer is and what they hold (app.holdings_cache)
only while this generation stands. Every commit that wrote a table those answers are made
of bumps it, whichever service, webhook or CLI command did the write, in whichever
process: the session events below see ORM flushes and Core INSERT/UPDATE/DELETE statements
run through a session. Same file mechanism as the content generation
(app.reports.preview_cache): a reader compares one os.stat, a writer appends a byte after
its commit. Registered by app.db, so every process that opens a session has them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from app.models import (
    Organization,
    OrganizationDomain,
    OrganizationRange,
    RefreshToken,
    Subscription,
    Tier,
    TierCollection,
    User,
)
from app.reports.preview_cache import Generation, bump_generation, current_generation

ACCESS_GENERATION_FILE = ".folio-access-generation"
# What a viewer is (users, their sessions) and holds (subscriptions and comps, licences
# by range or domain, the tiers' scope and collections).
_ACCESS_MODELS = (
    User,
    RefreshToken,
    Subscription,
    Organization,
    OrganizationRange,
    OrganizationDomain,
    Tier,
    TierCollection,
)
ACCESS_TABLES = frozenset(model.__table__.name for model in _ACCESS_MODELS)  # type: ignore[attr-defined]
_REFRESH_TOKENS = RefreshToken.__table__.name  # type: ignore[attr-defined]
_STALE = "folio_access_stale"


def current_access_generation() -> Generation:
    return current_generation(ACCESS_GENERATION_FILE)


def bump_access_generation() -> None:
    bump_generation(ACCESS_GENERATION_FILE)


def _stales(instance: Any, new: bool) -> bool:
    # A new refresh token (a sign-in, a rotation) ends no session a worker has kept.
    return isinstance(instance, _ACCESS_MODELS) and not (new and isinstance(instance, RefreshToken))


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session: Session, _flush: UOWTransaction) -> None:
    # A flag left by a write later rolled back only costs one needless bump.
    if (
        any(_stales(instance, True) for instance in session.new)
        or any(_stales(instance, False) for instance in session.dirty)
        or any(_stales(instance, False) for instance in session.deleted)
    ):
        session.info[_STALE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_writes(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE/INSERT statements run through the session (no flush)."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in ACCESS_TABLES:
        return
    # A new refresh token (sign-in, rotation) and a statement marked access-neutral (a
    # refresh spending its token) end no session.
    if name == _REFRESH_TOKENS and state.is_insert:
        return
    if state.execution_options.get("folio_access_neutral"):
        return
    state.session.info[_STALE] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_STALE, False):
        bump_access_generation()
