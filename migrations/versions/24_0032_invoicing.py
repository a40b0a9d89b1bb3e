"""invoicing: VAT rates per country (data, seeded with the EU member states' standard rates), the order's payment
terms and VAT (`vat_rule`, `vat_rate`, `vat`; orders placed before have no rule and no VAT, so their totals stay
as they were), invoices and credit notes with their lines and yearly counters, payments, and the staff role
`finance`.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 10:55:00

"""
from alembic import op
import sqlalchemy as sa

from shop.platform.database import UTCDateTime


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('admin', 'warehouse', 'quality', 'fulfilment', 'sales')
ROLES = ROLES_BEFORE + ('finance',)

# Standard VAT rates of the EU member states in percent (European Commission, "VAT rates applied in the Member
# States", 2026). Reduced rates are added as rows of their own category when a product is assigned one.
EU_STANDARD_RATES = {
    'AT': '20.00', 'BE': '21.00', 'BG': '20.00', 'CY': '19.00', 'CZ': '21.00', 'DE': '19.00', 'DK': '25.00',
    'EE': '24.00', 'ES': '21.00', 'FI': '25.50', 'FR': '20.00', 'GR': '24.00', 'HR': '25.00', 'HU': '27.00',
    'IE': '23.00', 'IT': '22.00', 'LT': '21.00', 'LU': '17.00', 'LV': '21.00', 'MT': '18.00', 'NL': '21.00',
    'PL': '23.00', 'PT': '23.00', 'RO': '21.00', 'SE': '25.00', 'SI': '22.00', 'SK': '23.00',
}


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    vat_rate = op.create_table(
        'vat_rate',
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('rate', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('eu_member', sa.Boolean(), nullable=False),
        sa.CheckConstraint('rate >= 0 AND rate < 100', name=op.f('ck_vat_rate_rate_in_range')),
        sa.PrimaryKeyConstraint('country', 'category', name=op.f('pk_vat_rate')),
    )
    op.bulk_insert(vat_rate, [{'country': country, 'category': 'standard', 'rate': rate, 'eu_member': True}
                              for country, rate in EU_STANDARD_RATES.items()])
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_terms', sa.String(length=12), server_default='prepaid',
                                      nullable=False))
        batch_op.add_column(sa.Column('vat_rule', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('vat', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False))
    op.execute('UPDATE "order" SET payment_terms = (SELECT company.payment_terms FROM company '
               'WHERE company.id = "order".company_id)')
    op.create_table(
        'invoice_sequence',
        sa.Column('series', sa.String(length=3), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_invoice_sequence')),
    )
    op.create_table(
        'invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('document_kind', 'invoice', 'credit_note'), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('serial', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('order_number', sa.String(length=20), nullable=False),
        sa.Column('shipment_id', sa.Integer(), nullable=True),
        sa.Column('shipment_number', sa.String(length=30), nullable=True),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('payment_terms', sa.String(length=12), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('buyer_reference', sa.String(length=100), nullable=False),
        sa.Column('buyer_name', sa.String(length=200), nullable=False),
        sa.Column('buyer_vat_id', sa.String(length=20), nullable=False),
        sa.Column('buyer_line1', sa.String(length=200), nullable=False),
        sa.Column('buyer_line2', sa.String(length=200), nullable=False),
        sa.Column('buyer_city', sa.String(length=100), nullable=False),
        sa.Column('buyer_postal_code', sa.String(length=20), nullable=False),
        sa.Column('buyer_country', sa.String(length=2), nullable=False),
        sa.Column('ship_country', sa.String(length=2), nullable=False),
        sa.Column('vat_rule', _enum('vat_rule', 'domestic', 'intra_community', 'export', 'eu_other'),
                  nullable=False),
        sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('net', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('vat', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('gross', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('amount_paid', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
        sa.Column('amount_credited', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("(kind = 'credit_note') = (corrects_id IS NOT NULL)",
                           name=op.f('ck_invoice_credit_note_corrects')),
        sa.CheckConstraint('amount_paid >= 0 AND amount_credited >= 0 AND amount_paid + amount_credited <= gross',
                           name=op.f('ck_invoice_settled_at_most_gross')),
        sa.CheckConstraint('net >= 0 AND vat >= 0 AND gross = net + vat', name=op.f('ck_invoice_totals_add_up')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_invoice_company_id_company')),
        sa.ForeignKeyConstraint(['corrects_id'], ['invoice.id'], name=op.f('fk_invoice_corrects_id_invoice')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_invoice_order_id_order')),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_invoice_shipment_id_shipment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
        sa.UniqueConstraint('kind', 'year', 'serial', name=op.f('uq_invoice_kind_year_serial')),
        sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_company_id_issued_on_id', ['company_id', 'issued_on', 'id'], unique=False)
        batch_op.create_index('ix_invoice_issued_on_id', ['issued_on', 'id'], unique=False)
        batch_op.create_index('ix_invoice_due_on_id', ['due_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_corrects_id'), ['corrects_id'], unique=False)
    op.create_table(
        'invoice_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('order_line_id', sa.Integer(), nullable=True),
        sa.Column('sku', sa.String(length=40), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('net', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('lot_numbers', sa.Text(), nullable=False),
        sa.CheckConstraint('quantity > 0 AND unit_price >= 0 AND net >= 0',
                           name=op.f('ck_invoice_line_amounts_not_negative')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice')),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'],
                                name=op.f('fk_invoice_line_order_line_id_order_line')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
        sa.UniqueConstraint('invoice_id', 'position', name=op.f('uq_invoice_line_invoice_id_position')),
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_order_line_id'), ['order_line_id'], unique=False)
    op.create_table(
        'payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=140), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_payment_amount_positive')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_payment_company_id_company')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_payment_invoice_id_invoice')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_payment_order_id_order')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_payment_staff_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_company_id_paid_on_id', ['company_id', 'paid_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_invoice_id'), ['invoice_id'], unique=False)
    _staff_roles(ROLES)


def _staff_roles(roles):
    """The staff role CHECKs (a held role, and the role a lot signature records) with the given roles."""
    allowed = ", ".join(f"'{r}'" for r in roles)
    for table, column in (('staff_user_role', 'role'), ('lot_signature', 'signer_role')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_staff_role'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_staff_role'), f"{column} IN ({allowed})")


def downgrade():
    op.execute("DELETE FROM staff_user_role WHERE role = 'finance'")
    _staff_roles(ROLES_BEFORE)
    op.drop_table('payment')
    op.drop_table('invoice_line')
    op.drop_table('invoice')
    op.drop_table('invoice_sequence')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('vat')
        batch_op.drop_column('vat_rate')
        batch_op.drop_column('vat_rule')
        batch_op.drop_column('payment_terms')
    op.drop_table('vat_rate')
