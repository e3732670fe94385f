"""deciding passage: where in an item's text the passage that decided its label stands

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column needs no table rebuild on SQLite, so the expression index of 0008 stays.
    op.add_column('items', sa.Column('passage_start', sa.Integer(), nullable=True))
    op.add_column('items', sa.Column('passage_end', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.drop_column('passage_end')
        batch.drop_column('passage_start')
    # SQLite rebuilt `items` for the drop; give back the expression index 0008 made.
    op.execute("DROP INDEX IF EXISTS ix_items_seen_at")
    op.create_index('ix_items_seen_at', 'items', [sa.text('coalesce(published_at, fetched_at)')], unique=False)
