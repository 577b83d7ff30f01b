"""Organizations' IP ranges and email domains, one indexed row each, filled from the JSON lists

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:20:00

A read used to load every live organization and match its address in Python. The ranges
now live in `organization_ranges` too (PostgreSQL: `cidr` with a GiST inet_ops index,
queried with `>>=`; SQLite: the canonical CIDR text under a b-tree, queried with the
address's enclosing networks) and the domains in `organization_domains`. The JSON lists
stay what the API shows; every existing organization is copied here.
"""

import ipaddress
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _canonical(cidr: str) -> str | None:
    try:
        return str(ipaddress.ip_network(cidr.strip(), strict=False))
    except ValueError:
        return None


def upgrade() -> None:
    ranges = op.create_table(
        "organization_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "network",
            sa.String(length=50).with_variant(postgresql.CIDR(), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_ranges_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_ranges")),
    )
    op.create_index(
        op.f("ix_organization_ranges_organization_id"), "organization_ranges", ["organization_id"]
    )
    op.create_index(
        "ix_organization_ranges_network",
        "organization_ranges",
        ["network"],
        postgresql_using="gist",
        postgresql_ops={"network": "inet_ops"},
    )
    domains = op.create_table(
        "organization_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_domains_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_domains")),
    )
    op.create_index(
        op.f("ix_organization_domains_organization_id"), "organization_domains", ["organization_id"]
    )
    op.create_index(op.f("ix_organization_domains_domain"), "organization_domains", ["domain"])

    organizations = sa.table(
        "organizations",
        sa.column("id", sa.Integer()),
        sa.column("ip_ranges", sa.JSON()),
        sa.column("email_domains", sa.JSON()),
    )
    bind = op.get_bind()
    range_rows, domain_rows = [], []
    for org_id, ip_ranges, email_domains in bind.execute(
        sa.select(organizations.c.id, organizations.c.ip_ranges, organizations.c.email_domains)
    ):
        networks = {n for r in ip_ranges or () if (n := _canonical(r))}
        range_rows += [{"organization_id": org_id, "network": n} for n in sorted(networks)]
        names = {d.strip().lower() for d in email_domains or () if d.strip()}
        domain_rows += [{"organization_id": org_id, "domain": d} for d in sorted(names)]
    if range_rows:
        op.bulk_insert(ranges, range_rows)
    if domain_rows:
        op.bulk_insert(domains, domain_rows)


def downgrade() -> None:
    op.drop_table("organization_domains")
    op.drop_table("organization_ranges")
