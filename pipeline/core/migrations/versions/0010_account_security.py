"""account security: disabled accounts, a session epoch that ends old sessions, failed logins

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

import pipeline.core.schema


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('failed_at', pipeline.core.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index(op.f('ix_login_failures_key'), 'login_failures', ['key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_failures_key'), table_name='login_failures')
    op.drop_table('login_failures')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_epoch')
        batch.drop_column('disabled')
