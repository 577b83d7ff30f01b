"""Institutional licences, their ranges and domains as looked up, and subscription requests."""

import ipaddress
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, delete, event, insert
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    tier_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="RESTRICT"), nullable=False)
    )
    email_domains: list[str] = Field(default_factory=list, sa_type=JSON)
    ip_ranges: list[str] = Field(default_factory=list, sa_type=JSON)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notes: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# CIDR text on SQLite; PostgreSQL's own `cidr`, so `>>=` and a GiST index apply.
NetworkType = String(50).with_variant(postgresql.CIDR(), "postgresql")


class OrganizationRange(SQLModel, table=True):
    """One range of `Organization.ip_ranges`, one row each, so a read finds the licences of
    its address through an index instead of every organization (written by the events below).

    PostgreSQL: a GiST (inet_ops) index answers `network >>= address`. SQLite: a b-tree on the
    canonical CIDR text answers `network IN (the 33 or 129 networks that hold the address)`;
    a start/end pair would not do, as `start <= address` walks every range below it.
    """

    __tablename__ = "organization_ranges"
    __table_args__ = (
        Index(
            "ix_organization_ranges_network",
            "network",
            postgresql_using="gist",
            postgresql_ops={"network": "inet_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    network: str = Field(sa_column=Column(NetworkType, nullable=False))


class OrganizationDomain(SQLModel, table=True):
    """One domain of `Organization.email_domains`, one row each, looked up by a member's
    domain and its parents (b-tree on both databases)."""

    __tablename__ = "organization_domains"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    domain: str = Field(max_length=253, index=True)


def canonical_network(cidr: str) -> str | None:
    """The form the API stores and the read looks up (None: not a range, never matched)."""
    try:
        return str(ipaddress.ip_network(cidr.strip(), strict=False))
    except ValueError:
        return None


def _index_rows(org: Organization) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    networks = {n for r in org.ip_ranges or () if (n := canonical_network(r))}
    domains = {d.strip().lower() for d in org.email_domains or () if d.strip()}
    return (
        [{"organization_id": org.id, "network": n} for n in sorted(networks)],
        [{"organization_id": org.id, "domain": d} for d in sorted(domains)],
    )


def _write_index(connection: Any, org: Organization) -> None:
    ranges, domains = _index_rows(org)
    if ranges:
        connection.execute(insert(OrganizationRange.__table__), ranges)  # type: ignore[attr-defined]
    if domains:
        connection.execute(insert(OrganizationDomain.__table__), domains)  # type: ignore[attr-defined]


def _clear_index(connection: Any, org_id: int) -> None:
    for table in (OrganizationRange.__table__, OrganizationDomain.__table__):  # type: ignore[attr-defined]
        connection.execute(delete(table).where(table.c.organization_id == org_id))


# Every ORM write of an organization (the admin routes, an approval `as: organization`, the
# CLI, tests) keeps its ranges and domains rows in step, in the same flush and transaction:
# no write path can forget them. Raw SQL writes must do the same (migration 0014 backfills).
@event.listens_for(Organization, "after_insert")
def _organization_inserted(_mapper: Any, connection: Any, org: Organization) -> None:
    _write_index(connection, org)


@event.listens_for(Organization, "after_update")
def _organization_updated(_mapper: Any, connection: Any, org: Organization) -> None:
    _clear_index(connection, org.id)  # type: ignore[arg-type]
    _write_index(connection, org)


@event.listens_for(Organization, "before_delete")
def _organization_deleted(_mapper: Any, connection: Any, org: Organization) -> None:
    # ON DELETE CASCADE does it too, where SQLite's foreign keys are switched on.
    _clear_index(connection, org.id)  # type: ignore[arg-type]


class SubscriptionRequest(SQLModel, table=True):
    __tablename__ = "subscription_requests"

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    organization: str = Field(default="", max_length=200)
    organization_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True
        ),
    )
    message: str = Field(default="", sa_type=Text)
    tier_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="SET NULL"), nullable=True),
    )
    status: str = Field(default="pending", max_length=16, index=True)
    decided_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
