"""order_line.lot_number and order.single_lot: a line pinned to one lot (as the lot spells its number; NULL: any
lot), and an order whose every line comes from one lot. Existing orders pin nothing and may split lines.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 15:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lot_number', sa.String(length=40), nullable=True))
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('single_lot', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('single_lot')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('lot_number')
