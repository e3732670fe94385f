"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:24:30.681319
"""
from alembic import op
import sqlalchemy as sa

import pipeline.core.schema


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_errors'))
    )
    op.create_table('story_clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_outlet', sa.String(length=200), nullable=False),
    sa.Column('first_url', sa.Text(), nullable=False),
    sa.Column('first_seen_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_clusters'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('canonical_url', sa.String(length=2000), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('outlet', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('lead', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_folded', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('published_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fetched_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stored_at', pipeline.core.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=True),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('reactions', sa.Integer(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=True),
    sa.Column('relevant', sa.Boolean(), nullable=True),
    sa.Column('label', sa.String(length=20), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('sentiment', sa.String(length=10), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['story_clusters.id'], name=op.f('fk_items_cluster_id_story_clusters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('canonical_url', name=op.f('uq_items_canonical_url'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_label'), ['label'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_needs_review'), ['needs_review'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_outlet'), ['outlet'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_relevant'), ['relevant'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_source'), ['source'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_source'))
        batch_op.drop_index(batch_op.f('ix_items_relevant'))
        batch_op.drop_index(batch_op.f('ix_items_published_at'))
        batch_op.drop_index(batch_op.f('ix_items_outlet'))
        batch_op.drop_index(batch_op.f('ix_items_needs_review'))
        batch_op.drop_index(batch_op.f('ix_items_label'))
        batch_op.drop_index(batch_op.f('ix_items_kind'))
        batch_op.drop_index(batch_op.f('ix_items_content_hash'))
        batch_op.drop_index(batch_op.f('ix_items_cluster_id'))

    op.drop_table('items')
    op.drop_table('users')
    op.drop_table('story_clusters')
    op.drop_table('ingest_errors')
