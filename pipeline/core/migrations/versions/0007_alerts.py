"""alerts: spikes of a narrative's misleading items or of negative coverage

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

import pipeline.core.schema


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('window_start', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column('window_end', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('norm_mean', sa.Float(), nullable=False),
        sa.Column('norm_sd', sa.Float(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('item_ids', sa.JSON(), nullable=False),
        sa.Column('continues_id', sa.Integer(), nullable=True),
        sa.Column('created_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column('email_status', sa.String(length=10), nullable=False),
        sa.Column('email_error', sa.Text(), nullable=True),
        sa.Column('webhook_status', sa.String(length=10), nullable=False),
        sa.Column('webhook_error', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_attempt_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['continues_id'], ['alerts.id'],
                                name=op.f('fk_alerts_continues_id_alerts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
        sa.UniqueConstraint('kind', 'subject', 'window_start', name='uq_alerts_kind_subject_window'),
    )
    op.create_index(op.f('ix_alerts_created_at'), 'alerts', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alerts_created_at'), table_name='alerts')
    op.drop_table('alerts')
