"""review workflow: assignment, response status, conflict guard, double review

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviews') as batch:
        batch.add_column(sa.Column('assignee', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('response_status', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('response_link', sa.Text(), nullable=True))
        batch.add_column(sa.Column('expected_previous', sa.Integer(), nullable=True))
        # Existing rows are first reviews, so the server default fills them with false.
        batch.add_column(sa.Column('second_review', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('reviews') as batch:
        batch.drop_column('second_review')
        batch.drop_column('expected_previous')
        batch.drop_column('response_link')
        batch.drop_column('response_status')
        batch.drop_column('assignee')
