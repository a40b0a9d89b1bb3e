"""API keys may act as a company admin (the check constraint key_role_not_admin goes): an admin key manages the
company's webhook endpoints; order.api_key_id and order_status_change.api_key_id: the API key that placed an
order, or approved or rejected it (its name is shown as who did; customer_id stays the key's maker);
order.tracking_reference gets a server default (''), as order.carrier has, so that a new order's one-statement
write names neither and stays short enough for psycopg to prepare once

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 15:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_api_key_key_role_not_admin'), type_='check')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.alter_column('tracking_reference', existing_type=sa.String(length=100), server_default='')
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_api_key_id'), ['api_key_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_api_key_id_api_key'), 'api_key', ['api_key_id'], ['id'])
    with op.batch_alter_table('order_status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_order_status_change_api_key_id_api_key'), 'api_key',
                                    ['api_key_id'], ['id'])


def downgrade():
    with op.batch_alter_table('order_status_change', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_status_change_api_key_id_api_key'), type_='foreignkey')
        batch_op.drop_column('api_key_id')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_api_key_id_api_key'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_api_key_id'))
        batch_op.drop_column('api_key_id')
        batch_op.alter_column('tracking_reference', existing_type=sa.String(length=100), server_default=None)
    op.execute("UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP WHERE role = 'admin' AND revoked_at IS NULL")
    op.execute("UPDATE api_key SET role = 'approver' WHERE role = 'admin'")
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_api_key_key_role_not_admin'), "role IN ('buyer', 'approver')")
