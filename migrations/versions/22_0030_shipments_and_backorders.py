"""shipments and backorders: an order ships in one or more shipments (shipment; allocation.shipment_id names the
one that carried its units) and may be partially_shipped; a line may have units backordered
(order_line.backordered_quantity) when the order allows it (order.allow_backorder) or a recall took units no other
lot could replace.

Every order that has shipped gets its one shipment, S1, from its carrier, tracking reference and the time it
shipped, and its shipped allocations point at it: nothing is lost, and the shipments of old orders read as those
of new ones.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa

from shop.platform.database import UTCDateTime


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ('awaiting_approval', 'pending', 'confirmed', 'shipped', 'delivered', 'cancelled')
STATUSES = STATUSES_BEFORE + ('partially_shipped',)


def upgrade():
    op.create_table(
        'shipment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=30), nullable=False),
        sa.Column('carrier', sa.String(length=60), nullable=False),
        sa.Column('tracking_reference', sa.String(length=100), nullable=False),
        sa.Column('shipped_at', UTCDateTime(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('sequence > 0', name=op.f('ck_shipment_sequence_positive')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_shipment_order_id_order'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_shipment_staff_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
        sa.UniqueConstraint('number', name=op.f('uq_shipment_number')),
        sa.UniqueConstraint('order_id', 'sequence', name=op.f('uq_shipment_order_id_sequence')),
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_allocation_shipment_id_shipment'), 'shipment',
                                    ['shipment_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_allocation_shipment_id'), ['shipment_id'], unique=False)
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_backorder', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backordered_quantity', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_order_line_backordered_within_quantity'),
            'backordered_quantity >= 0 AND backordered_quantity + cancelled_quantity <= quantity')
    op.create_index('ix_order_line_backordered_variant_id', 'order_line', ['variant_id'], unique=False,
                    postgresql_where=sa.text('backordered_quantity > 0'),
                    sqlite_where=sa.text('backordered_quantity > 0'))
    _order_statuses(STATUSES)
    _shipped_orders_get_their_shipment()


def _shipped_orders_get_their_shipment():
    """S1 for every order that shipped: carrier and tracking from the order, the time from its move to shipped."""
    op.execute(
        "INSERT INTO shipment (order_id, sequence, number, carrier, tracking_reference, shipped_at, staff_id) "
        "SELECT o.id, 1, o.number || '-S1', o.carrier, o.tracking_reference, c.at, c.staff_id "
        "FROM \"order\" o JOIN order_status_change c ON c.order_id = o.id AND c.to_status = 'shipped' "
        "WHERE c.id = (SELECT max(c2.id) FROM order_status_change c2 "
        "              WHERE c2.order_id = o.id AND c2.to_status = 'shipped')")
    op.execute(
        "UPDATE allocation SET shipment_id = (SELECT s.id FROM shipment s JOIN order_line l ON l.order_id = s.order_id "
        "WHERE l.id = allocation.order_line_id AND s.sequence = 1) WHERE status = 'shipped'")


def _order_statuses(statuses):
    """The status CHECKs of order and its history, with the given statuses."""
    allowed = ", ".join(f"'{s}'" for s in statuses)
    for table, columns in (('order', ('status',)), ('order_status_change', ('from_status', 'to_status'))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                name = 'order_status' if column == 'status' else column
                batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
                batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), f"{column} IN ({allowed})")


def downgrade():
    # A partially shipped order reads as shipped again (its shipped allocations stay shipped); backordered units
    # are no longer recorded (the line is short by them, as after a recall before this revision).
    op.execute("UPDATE \"order\" SET status = 'shipped' WHERE status = 'partially_shipped'")
    op.execute("UPDATE order_status_change SET from_status = 'shipped' WHERE from_status = 'partially_shipped'")
    op.execute("UPDATE order_status_change SET to_status = 'shipped' WHERE to_status = 'partially_shipped'")
    _order_statuses(STATUSES_BEFORE)
    op.drop_index('ix_order_line_backordered_variant_id', table_name='order_line',
                  postgresql_where=sa.text('backordered_quantity > 0'),
                  sqlite_where=sa.text('backordered_quantity > 0'))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_line_backordered_within_quantity'), type_='check')
        batch_op.drop_column('backordered_quantity')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('allow_backorder')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_shipment_id'))
        batch_op.drop_constraint(batch_op.f('fk_allocation_shipment_id_shipment'), type_='foreignkey')
        batch_op.drop_column('shipment_id')
    op.drop_table('shipment')
