"""invoice immutable: who issued each invoice or credit note (`staff_id`).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 19:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invoice_staff_id_staff_user'), 'staff_user', ['staff_id'], ['id'])


def downgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invoice_staff_id_staff_user'), type_='foreignkey')
        batch_op.drop_column('staff_id')
