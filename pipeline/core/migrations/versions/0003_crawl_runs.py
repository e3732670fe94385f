"""crawl runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:53:45.859065
"""
from alembic import op
import sqlalchemy as sa

import pipeline.core.schema


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('outlet', sa.String(length=200), nullable=False),
    sa.Column('started_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fetched', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('duplicate', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_runs'))
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_runs_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_crawl_runs_started_at'), ['started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_started_at'))
        batch_op.drop_index(batch_op.f('ix_crawl_runs_source'))

    op.drop_table('crawl_runs')
