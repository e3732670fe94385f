"""feed states

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:02:15.518529
"""
from alembic import op
import sqlalchemy as sa

import pipeline.core.schema


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feed_states',
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('updated_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('url', name=op.f('pk_feed_states'))
    )


def downgrade() -> None:
    op.drop_table('feed_states')
