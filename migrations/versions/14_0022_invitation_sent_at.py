"""customer.invited_at: when the latest invitation to join a company was sent (None for people who registered);
an invitation not accepted within INVITATION_VALID_DAYS of it has lapsed. Pending invitations take their row's
created_at.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 18:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE customer SET invited_at = created_at WHERE joined_at IS NULL")


def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('invited_at')
