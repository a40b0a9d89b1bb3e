"""events and webhooks: the transactional outbox, webhook endpoints, deliveries and their attempt log;
order.carrier (who carries a shipment, told to the buyer with the tracking reference)

Existing orders get no carrier (empty): they shipped before it was recorded.

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-28 12:16:57

"""
from alembic import op
import sqlalchemy as sa

import shop.platform.database


revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', shop.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handed_over_at', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_outbox_event_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_event_id'))
    )
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_event_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_outbox_event_type_id', ['type', 'id'], unique=False)
        batch_op.create_index('ix_outbox_event_waiting', ['created_at'], unique=False, postgresql_where=sa.text('handed_over_at IS NULL'), sqlite_where=sa.text('handed_over_at IS NULL'))

    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.Text(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('failing_since', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', shop.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_webhook_endpoint_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_endpoint_customer_id_id', ['customer_id', 'id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'delivered', 'failed', name='delivery_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', shop.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_event.id'], name=op.f('fk_webhook_delivery_event_id_outbox_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('endpoint_id', 'event_id', name=op.f('uq_webhook_delivery_endpoint_id_event_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_event_id', ['event_id'], unique=False)
        batch_op.create_index('ix_webhook_delivery_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    op.create_table('webhook_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', shop.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('response_excerpt', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], name=op.f('fk_webhook_attempt_delivery_id_webhook_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_attempt_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_attempt_delivery_id', ['delivery_id'], unique=False)
        batch_op.create_index('ix_webhook_attempt_endpoint_id_id', ['endpoint_id', 'id'], unique=False)

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier', sa.String(length=60), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('carrier')

    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_attempt_endpoint_id_id')
        batch_op.drop_index('ix_webhook_attempt_delivery_id')

    op.drop_table('webhook_attempt')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_state_next_attempt_at')
        batch_op.drop_index('ix_webhook_delivery_event_id')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_endpoint_customer_id_id')

    op.drop_table('webhook_endpoint')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_event_waiting', postgresql_where=sa.text('handed_over_at IS NULL'), sqlite_where=sa.text('handed_over_at IS NULL'))
        batch_op.drop_index('ix_outbox_event_type_id')
        batch_op.drop_index('ix_outbox_event_customer_id_id')

    op.drop_table('outbox_event')
