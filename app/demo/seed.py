"""`folio seed-demo`: the demo catalogue, reports and accounts, into an empty database only.

`make run` calls it on every start, so a database that holds anything is left exactly as
it is (a user's edits survive); `reset=True` deletes every row Folio stores and seeds anew.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts.passwords import hash_password, verify_password
from app.billing import catalog, comps
from app.billing.schemas import CompIn, TierIn
from app.config import get_settings
from app.db import session_scope
from app.models import Collection, Organization, Report, Tier, User, metadata, utcnow
from app.reports import editing
from app.reports.admin_schemas import CollectionIn
from app.reports.importing import import_directory

DEMO_DIR = Path(__file__).resolve().parent
DEMO_ACCOUNTS = (
    # email, password, role, comp tier
    ("admin@example.com", "admin-demo-pass", "admin", None),
    ("reader@example.com", "reader-demo-pass", "reader", None),
    ("subscriber@example.com", "subscriber-demo-pass", "reader", "all-access"),
)
# What a person may have made or changed: any of it means the database is not for seeding.
HOLDINGS = (
    ("reports", Report),
    ("collections", Collection),
    ("tiers", Tier),
    ("organizations", Organization),
    ("accounts", User),
)


def holdings(session: Session) -> dict[str, int]:
    counts = {
        name: session.execute(select(func.count()).select_from(model)).scalar_one()
        for name, model in HOLDINGS
    }
    return {name: count for name, count in counts.items() if count}


def delete_everything(session: Session) -> None:
    """Every row of every table (the schema and its migration stamp stay): a fresh start."""
    for table in reversed(metadata.sorted_tables):
        session.execute(table.delete())
    session.flush()


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name if n > 1 else name[:-1]}" for name, n in counts.items())


def _create_catalog(session: Session) -> None:
    data = yaml.safe_load((DEMO_DIR / "catalog.yaml").read_text(encoding="utf-8"))
    for raw in data["collections"]:
        editing.create_collection(session, CollectionIn.model_validate(raw), None)
    for raw in data["tiers"]:
        catalog.create_tier(session, TierIn.model_validate(raw), None)


def _create_account(session: Session, email: str, password: str, role: str) -> User:
    user = User(
        email=email,
        name=email.split("@")[0].title(),
        password_hash=hash_password(password),
        role=role,
        email_verified_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def _seed(session: Session) -> list[str]:
    settings = get_settings()
    _create_catalog(session)
    result = import_directory(session, DEMO_DIR / "reports", settings.preview_paragraphs)
    if result.failed:
        raise RuntimeError(f"demo reports failed to import: {result.failed}")
    lines = [f"reports: {result.summary()}"]
    for email, password, role, comp_tier in DEMO_ACCOUNTS:
        user = _create_account(session, email, password, role)
        if comp_tier:
            comps.grant_comp(session, user.id, CompIn(tier=comp_tier, note="demo"), None)  # type: ignore[arg-type]
        lines.append(
            f"{role:>10}: {email} / {password}" + (f" (comp: {comp_tier})" if comp_tier else "")
        )
    return lines


def seed_demo_content(*, reset: bool = False) -> list[str]:
    """Seeds an empty database; one that holds anything is left alone unless `reset`.
    Deleting and seeding are one transaction: a failure leaves the database as it was."""
    lines: list[str] = []
    with session_scope() as session:
        held = holdings(session)
        if held and not reset:
            return [
                f"the database already holds {_describe(held)}: nothing changed "
                "(`folio seed-demo --reset` deletes everything and seeds the demo again)",
                *_demo_accounts_still_usable(session),
                *_where_to_go(),
            ]
        if held:
            delete_everything(session)
            lines.append(f"deleted everything: {_describe(held)} and all that hung on them")
        lines += _seed(session)
    return lines + _where_to_go()


def _where_to_go() -> list[str]:
    base = get_settings().base_url
    return [
        f"the website: {base}/  (admin console: {base}/admin, API: {base}/docs)",
    ]


def _demo_accounts_still_usable(session: Session) -> list[str]:
    """The demo accounts whose demo password still signs in, so a second `make run`
    prints them again (an account whose password was changed is not listed)."""
    lines = []
    for email, password, role, _comp in DEMO_ACCOUNTS:
        user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None or user.password_hash is None or user.disabled:
            continue
        if verify_password(password, user.password_hash)[0]:
            lines.append(f"{role:>10}: {email} / {password}")
    return lines
