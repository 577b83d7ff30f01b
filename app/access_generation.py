"""The access generation: every worker's kept viewers and holdings go stale together.

A worker keeps who an access token's viewer is and what they hold (app.holdings_cache)
only while this generation stands. Every commit that wrote a table those answers are made
of bumps it, whichever service, webhook or CLI command did the write, in whichever
process: the watch's session events see ORM flushes and Core INSERT/UPDATE/DELETE statements
run through a session. The same mechanism as the content generation
(app.reports.preview_cache): a reader compares one os.stat, a writer appends a byte after
its commit (app.generation.WriteWatch). Imported by app.db, so every process that opens
a session has its listeners.
"""

from __future__ import annotations

from app.generation import Generation, WriteWatch
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

ACCESS_GENERATION_FILE = ".folio-access-generation"
# What a viewer is (users, their sessions) and holds (subscriptions and comps, licences
# by range or domain, the tiers' scope and collections). A new refresh token (a sign-in, a
# rotation) ends no session a worker has kept, nor does a statement marked
# `folio_access_neutral` (a refresh spending its token).
ACCESS = WriteWatch(
    ACCESS_GENERATION_FILE,
    (
        User,
        RefreshToken,
        Subscription,
        Organization,
        OrganizationRange,
        OrganizationDomain,
        Tier,
        TierCollection,
    ),
    quiet_new=(RefreshToken,),
    neutral_option="folio_access_neutral",
)
ACCESS_TABLES = ACCESS.tables


def current_access_generation() -> Generation:
    return ACCESS.current()


def bump_access_generation() -> None:
    ACCESS.bump()
