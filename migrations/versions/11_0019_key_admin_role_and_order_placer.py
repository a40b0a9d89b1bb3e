"""API keys may act as a company admin (the check constraint key_role_not_admin goes): an admin key manages the
company's webhook endpoints

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-04 15:20:00

"""
from alembic import op


revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_api_key_key_role_not_admin'), type_='check')


def downgrade():
    op.execute("UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP WHERE role = 'admin' AND revoked_at IS NULL")
    op.execute("UPDATE api_key SET role = 'approver' WHERE role = 'admin'")
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_api_key_key_role_not_admin'), "role IN ('buyer', 'approver')")
