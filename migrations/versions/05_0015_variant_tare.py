"""variant.tare_kg: the packaging weight of one pack, for gross weights on the packing slip

Existing pack sizes get no tare (NULL): nobody has weighed their packaging yet, and the packing slip says so
instead of printing a guessed gross weight.

Revision ID: 0015
Revises: 0010
Create Date: 2026-11-28 09:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tare_kg', sa.Numeric(precision=10, scale=3), nullable=True))
        batch_op.create_check_constraint(op.f('ck_variant_tare_not_negative'), 'tare_kg IS NULL OR tare_kg >= 0')


def downgrade():
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_variant_tare_not_negative'), type_='check')
        batch_op.drop_column('tare_kg')
