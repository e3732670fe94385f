"""enrichment: province, sector, cooperative registry

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

import pipeline.core.schema


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('province', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('sector', sa.String(length=40), nullable=True))
        batch.create_index(batch.f('ix_items_province'), ['province'], unique=False)
        batch.create_index(batch.f('ix_items_sector'), ['sector'], unique=False)
    op.create_table(
        'cooperatives',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('province', sa.String(length=100), nullable=True),
        sa.Column('first_seen_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperatives')),
        sa.UniqueConstraint('key', name=op.f('uq_cooperatives_key')),
    )
    op.create_table(
        'cooperative_mentions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cooperative_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('mentioned_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                                name=op.f('fk_cooperative_mentions_cooperative_id_cooperatives')),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'],
                                name=op.f('fk_cooperative_mentions_item_id_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperative_mentions')),
    )
    op.create_index(op.f('ix_cooperative_mentions_cooperative_id'), 'cooperative_mentions',
                    ['cooperative_id'], unique=False)
    op.create_index(op.f('ix_cooperative_mentions_item_id'), 'cooperative_mentions',
                    ['item_id'], unique=False)
    op.create_index(op.f('ix_cooperative_mentions_mentioned_at'), 'cooperative_mentions',
                    ['mentioned_at'], unique=False)


def downgrade() -> None:
    op.drop_table('cooperative_mentions')
    op.drop_table('cooperatives')
    with op.batch_alter_table('items') as batch:
        batch.drop_index(batch.f('ix_items_sector'))
        batch.drop_index(batch.f('ix_items_province'))
        batch.drop_column('sector')
        batch.drop_column('province')
