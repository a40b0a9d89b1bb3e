"""quotes, stock holds and samples: quote and quote_line (a buyer's request and sales' answer), stock_hold (units of
a stock row set aside for a quote line, counted as allocated), sample_request, the yearly counters of their
numbers (sales_sequence), and the staff role `sales`. No existing data changes.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 04:40:00

"""
from alembic import op
import sqlalchemy as sa

from shop.platform.database import UTCDateTime


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('admin', 'warehouse', 'quality', 'fulfilment')
ROLES = ROLES_BEFORE + ('sales',)


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _address_columns():
    return [
        sa.Column('ship_name', sa.String(length=200), nullable=False),
        sa.Column('ship_line1', sa.String(length=200), nullable=False),
        sa.Column('ship_line2', sa.String(length=200), nullable=False),
        sa.Column('ship_city', sa.String(length=100), nullable=False),
        sa.Column('ship_postal_code', sa.String(length=20), nullable=False),
        sa.Column('ship_country', sa.String(length=2), nullable=False),
    ]


def upgrade():
    op.create_table(
        'sales_sequence',
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_sales_sequence')),
    )
    op.create_table(
        'quote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('status', _enum('quote_status', 'requested', 'answered', 'accepted', 'declined', 'expired',
                                  'withdrawn'), nullable=False),
        sa.Column('requested_at', UTCDateTime(), nullable=False),
        sa.Column('min_remaining_shelf_life_days', sa.Integer(), nullable=True),
        sa.Column('needed_by', sa.Date(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('answer_note', sa.Text(), nullable=False),
        sa.Column('hold', sa.Boolean(), nullable=False),
        sa.Column('answered_at', UTCDateTime(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('attention_note', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('min_remaining_shelf_life_days IS NULL OR min_remaining_shelf_life_days >= 0',
                           name=op.f('ck_quote_shelf_life_not_negative')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['staff_user.id'],
                                name=op.f('fk_quote_answered_by_id_staff_user')),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_quote_api_key_id_api_key')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_quote_company_id_company')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_quote_customer_id_customer')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_quote_order_id_order')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quote')),
        sa.UniqueConstraint('number', name=op.f('uq_quote_number')),
        sa.UniqueConstraint('order_id', name=op.f('uq_quote_order_id')),
    )
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_api_key_id'), ['api_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_quote_company_id_requested_at_id', ['company_id', 'requested_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_quote_status_requested_at_id', ['status', 'requested_at', 'id'], unique=False)
        batch_op.create_index('ix_quote_status_valid_until', ['status', 'valid_until'], unique=False)
    op.create_table(
        'quote_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quote_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('variant_id', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=40), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_quote_line_quantity_positive')),
        sa.CheckConstraint('unit_price IS NULL OR unit_price > 0', name=op.f('ck_quote_line_unit_price_positive')),
        sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_quote_line_quote_id_quote'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_quote_line_variant_id_variant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_line')),
        sa.UniqueConstraint('quote_id', 'position', name=op.f('uq_quote_line_quote_id_position')),
    )
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_line_variant_id'), ['variant_id'], unique=False)
    op.create_table(
        'stock_hold',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quote_line_id', sa.Integer(), nullable=False),
        sa.Column('stock_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('status', _enum('hold_status', 'held', 'released', 'ordered'), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('released_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_hold_quantity_positive')),
        sa.ForeignKeyConstraint(['quote_line_id'], ['quote_line.id'],
                                name=op.f('fk_stock_hold_quote_line_id_quote_line'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stock_id'], ['stock.id'], name=op.f('fk_stock_hold_stock_id_stock')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_hold')),
    )
    with op.batch_alter_table('stock_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_hold_quote_line_id'), ['quote_line_id'], unique=False)
        batch_op.create_index('ix_stock_hold_stock_id_status', ['stock_id', 'status'], unique=False)
    op.create_table(
        'sample_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('quantity_g', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        *_address_columns(),
        sa.Column('status', _enum('sample_status', 'requested', 'shipped', 'declined'), nullable=False),
        sa.Column('requested_at', UTCDateTime(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.Column('stock_id', sa.Integer(), nullable=True),
        sa.Column('units', sa.Integer(), nullable=True),
        sa.Column('tracking_reference', sa.String(length=100), nullable=False),
        sa.Column('answer_note', sa.Text(), nullable=False),
        sa.Column('answered_at', UTCDateTime(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('quantity_g > 0', name=op.f('ck_sample_request_quantity_positive')),
        sa.CheckConstraint('units IS NULL OR units > 0', name=op.f('ck_sample_request_units_positive')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['staff_user.id'],
                                name=op.f('fk_sample_request_answered_by_id_staff_user')),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_sample_request_api_key_id_api_key')),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_sample_request_batch_id_batch')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_sample_request_company_id_company')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name=op.f('fk_sample_request_customer_id_customer')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sample_request_product_id_product')),
        sa.ForeignKeyConstraint(['stock_id'], ['stock.id'], name=op.f('fk_sample_request_stock_id_stock')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_request')),
        sa.UniqueConstraint('number', name=op.f('uq_sample_request_number')),
    )
    with op.batch_alter_table('sample_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_request_api_key_id'), ['api_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_request_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_request_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_request_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_sample_request_company_id_requested_at_id',
                              ['company_id', 'requested_at', 'id'], unique=False)
        batch_op.create_index('ix_sample_request_status_requested_at_id', ['status', 'requested_at', 'id'],
                              unique=False)
    _staff_roles(ROLES)


def _staff_roles(roles):
    """The staff role CHECKs (a held role, and the role a lot signature records) with the given roles."""
    allowed = ", ".join(f"'{r}'" for r in roles)
    for table, column in (('staff_user_role', 'role'), ('lot_signature', 'signer_role')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_staff_role'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_staff_role'), f"{column} IN ({allowed})")


def downgrade():
    op.execute("DELETE FROM staff_user_role WHERE role = 'sales'")
    _staff_roles(ROLES_BEFORE)
    op.drop_table('sample_request')
    op.drop_table('stock_hold')
    op.drop_table('quote_line')
    op.drop_table('quote')
    op.drop_table('sales_sequence')
