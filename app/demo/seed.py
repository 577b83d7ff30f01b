"""`folio seed-demo`: the demo catalogue, reports and accounts; safe to run again."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.passwords import hash_password
from app.admin.schemas import CollectionIn, CompIn, TierIn, TierUpdate
from app.billing import catalog, comps
from app.config import get_settings
from app.db import session_scope
from app.models import Collection, Subscription, Tier, User, utcnow
from app.reports import editing
from app.reports.importing import import_directory

DEMO_DIR = Path(__file__).resolve().parent
DEMO_ACCOUNTS = (
    # email, password, role, comp tier
    ("admin@example.com", "admin-demo-pass", "admin", None),
    ("reader@example.com", "reader-demo-pass", "reader", None),
    ("subscriber@example.com", "subscriber-demo-pass", "reader", "all-access"),
)


def _upsert_catalog(session: Session) -> None:
    data = yaml.safe_load((DEMO_DIR / "catalog.yaml").read_text(encoding="utf-8"))
    for raw in data["collections"]:
        wanted = CollectionIn.model_validate(raw)
        if session.execute(select(Collection.id).where(Collection.slug == wanted.slug)).first():
            continue
        editing.create_collection(session, wanted, None)
    for raw in data["tiers"]:
        wanted_tier = TierIn.model_validate(raw)
        if session.execute(select(Tier.id).where(Tier.slug == wanted_tier.slug)).first():
            catalog.update_tier(
                session, wanted_tier.slug, TierUpdate.model_validate(wanted_tier.model_dump()), None
            )
        else:
            catalog.create_tier(session, wanted_tier, None)


def _upsert_account(session: Session, email: str, password: str, role: str) -> User:
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(email=email, name=email.split("@")[0].title())
    user.password_hash = hash_password(password)
    user.role = role
    user.disabled = False
    user.email_verified_at = user.email_verified_at or utcnow()
    session.add(user)
    session.flush()
    return user


def _ensure_comp(session: Session, user: User, tier_slug: str) -> None:
    held = session.execute(
        select(Subscription.id).where(
            Subscription.user_id == user.id,
            Subscription.source == "comp",
            Subscription.status == "active",
        )
    ).first()
    if held is None:
        comps.grant_comp(session, user.id, CompIn(tier=tier_slug, note="demo"), None)  # type: ignore[arg-type]


def seed_demo_content() -> list[str]:
    settings = get_settings()
    lines = []
    with session_scope() as session:
        _upsert_catalog(session)
        result = import_directory(session, DEMO_DIR / "reports", settings.preview_paragraphs)
        if result.failed:
            raise RuntimeError(f"demo reports failed to import: {result.failed}")
        lines.append(f"reports: {len(result.created)} created, {len(result.updated)} updated")
        for email, password, role, comp_tier in DEMO_ACCOUNTS:
            user = _upsert_account(session, email, password, role)
            if comp_tier:
                _ensure_comp(session, user, comp_tier)
            lines.append(
                f"{role:>10}: {email} / {password}" + (f" (comp: {comp_tier})" if comp_tier else "")
            )
    lines.append(f"open {settings.base_url}/docs")
    return lines
