"""derived titles: posts without a headline get their first words as title, marked as derived

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Frozen here (a migration must not change when the code does): see normalize.derive_title.
TITLE_CHARS = 80


def _derive(text: str) -> str:
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    if len(first) <= TITLE_CHARS:
        return first
    cut = first[:TITLE_CHARS].rsplit(" ", 1)[0] or first[:TITLE_CHARS]
    return cut.rstrip(" ,.;:–-") + "…"


def upgrade() -> None:
    op.add_column('items', sa.Column('title_derived', sa.Boolean(), server_default=sa.false(), nullable=False))
    items = sa.table('items', sa.column('id', sa.Integer), sa.column('title', sa.Text),
                     sa.column('text', sa.Text), sa.column('title_derived', sa.Boolean))
    connection = op.get_bind()
    untitled = connection.execute(
        sa.select(items.c.id, items.c.text).where(sa.or_(items.c.title.is_(None), items.c.title == ''))
    ).all()
    for start in range(0, len(untitled), 500):
        connection.execute(
            items.update().where(items.c.id == sa.bindparam('item_id'))
            .values(title=sa.bindparam('new_title'), title_derived=True),
            [{'item_id': row.id, 'new_title': _derive(row.text)} for row in untitled[start:start + 500]],
        )


def downgrade() -> None:
    items = sa.table('items', sa.column('title', sa.Text), sa.column('title_derived', sa.Boolean))
    op.execute(items.update().where(items.c.title_derived.is_(True)).values(title=''))
    with op.batch_alter_table('items') as batch:
        batch.drop_column('title_derived')
    op.execute("DROP INDEX IF EXISTS ix_items_seen_at")
    op.create_index('ix_items_seen_at', 'items', [sa.text('coalesce(published_at, fetched_at)')], unique=False)
