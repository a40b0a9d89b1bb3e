"""webhook_endpoint.disabled_reason: why an endpoint was disabled (failing for days, or its maker no longer a
company admin), written for those disabled before (for failing); the endpoints of makers already removed or no
longer admins are disabled now, as removing or demoting a member does from this revision on

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-04 18:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_reason', sa.String(length=500), nullable=True))
    op.execute("UPDATE webhook_endpoint SET disabled_reason = 'It failed every delivery for days.' WHERE NOT enabled")
    op.execute("UPDATE webhook_endpoint SET enabled = false, disabled_at = CURRENT_TIMESTAMP, "
               "disabled_reason = 'Registered by a member who is no longer a company admin.' "
               "WHERE enabled AND customer_id IN "
               "(SELECT id FROM customer WHERE NOT active OR role <> 'admin')")


def downgrade():
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_column('disabled_reason')
