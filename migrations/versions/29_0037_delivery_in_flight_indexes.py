"""webhook_delivery: partial indexes for the deliveries of one endpoint in flight (claimed_until set) and waiting
(pending), which a claim counts and an attempt that ends looks up, now that an endpoint has at most
WEBHOOK_IN_FLIGHT_PER_ENDPOINT deliveries in flight.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 21:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

IN_FLIGHT, WAITING = sa.text("claimed_until IS NOT NULL"), sa.text("state = 'pending'")


def upgrade():
    op.create_index('ix_webhook_delivery_endpoint_id_claimed_until', 'webhook_delivery',
                    ['endpoint_id', 'claimed_until'], postgresql_where=IN_FLIGHT, sqlite_where=IN_FLIGHT)
    op.create_index('ix_webhook_delivery_endpoint_id_next_attempt_at', 'webhook_delivery',
                    ['endpoint_id', 'next_attempt_at'], postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade():
    op.drop_index('ix_webhook_delivery_endpoint_id_next_attempt_at', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_endpoint_id_claimed_until', table_name='webhook_delivery')
