"""Reading events, COUNTER monthly usage per organization, and COUNTER API credentials

Revision ID: 0015_usage
Revises: 0014
Create Date: 2026-12-01 15:20:00

`reading_events` is the raw ledger (pruned after aggregation); `usage_monthly` holds the
COUNTER counts the /r51 reports read; `usage_processing` records which months are done;
`counter_credentials` holds each organization's customer ID and its API key's hash.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015_usage'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usage_processing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_month', sa.Date(), nullable=False),
    sa.Column('processed_through', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_processing'))
    )
    op.create_table('counter_credentials',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('api_key_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_counter_credentials_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_counter_credentials')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_counter_credentials_customer_id'))
    )
    op.create_table('reading_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('access_type', sa.String(length=16), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('session_key', sa.String(length=64), nullable=True),
    sa.Column('reader_domain', sa.String(length=253), nullable=True),
    sa.Column('is_robot', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_reading_events_member_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_reading_events_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_reading_events_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_events'))
    )
    with op.batch_alter_table('reading_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_events_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_reading_events_occurred_at', ['occurred_at'], unique=False)

    op.create_table('usage_monthly',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('access_type', sa.String(length=16), nullable=False),
    sa.Column('total_item_investigations', sa.Integer(), nullable=False),
    sa.Column('unique_item_investigations', sa.Integer(), nullable=False),
    sa.Column('total_item_requests', sa.Integer(), nullable=False),
    sa.Column('unique_item_requests', sa.Integer(), nullable=False),
    sa.Column('no_license', sa.Integer(), nullable=False),
    sa.Column('limit_exceeded', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_usage_monthly_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_usage_monthly_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_monthly')),
    sa.UniqueConstraint('organization_id', 'month', 'report_id', 'access_type', name=op.f('uq_usage_monthly_organization_id_month_report_id_access_type'))
    )


def downgrade() -> None:
    op.drop_table('usage_monthly')
    with op.batch_alter_table('reading_events', schema=None) as batch_op:
        batch_op.drop_index('ix_reading_events_occurred_at')
        batch_op.drop_index(batch_op.f('ix_reading_events_member_id'))

    op.drop_table('reading_events')
    op.drop_table('counter_credentials')
    op.drop_table('usage_processing')
