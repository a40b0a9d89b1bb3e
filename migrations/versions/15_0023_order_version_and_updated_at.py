"""order.updated_at and order.version: when an order last changed, and how often (every change that an order event
announces bumps the version), for GET /api/v1/orders?updated_since= and the events' payloads. Existing orders start
at version 1, updated when they were placed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.execute('UPDATE "order" SET updated_at = placed_at')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_order_company_id_updated_at_id', ['company_id', 'updated_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index('ix_order_company_id_updated_at_id')
        batch_op.drop_column('version')
        batch_op.drop_column('updated_at')
