"""dashboard indexes: items by when they appeared (published, else fetched), stories by outlet

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An expression index: SQLite (3.9+) and PostgreSQL both use it for a range on exactly
    # coalesce(published_at, fetched_at), the expression dashboard/queries.py filters on.
    # Alembic cannot reflect expression indexes on SQLite, so a later batch migration that
    # recreates `items` must create this index again (tests/test_dashboard.py checks it).
    op.create_index('ix_items_seen_at', 'items',
                    [sa.text('coalesce(published_at, fetched_at)')], unique=False)
    op.create_index('ix_items_cluster_outlet', 'items', ['cluster_id', 'outlet'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_items_cluster_outlet', table_name='items')
    op.drop_index('ix_items_seen_at', table_name='items')
