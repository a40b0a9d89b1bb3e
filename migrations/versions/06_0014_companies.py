"""companies with members and roles, company API keys, contract price lists, orders awaiting approval

Every existing customer becomes a one-person company whose member is its admin, nothing lost: the company
takes the customer's company name, creation time and id (so that the statements stay set-based on any size
of table), and its orders, API keys and idempotency records stay where they were, now also tied to the
company. Existing keys act as buyers (no company has an approval threshold yet, so nothing is held).

Revision ID: 0014
Revises: 0015
Create Date: 2026-11-28 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0015'
branch_labels = None
depends_on = None

ROLES = ('buyer', 'approver', 'admin')
STATUSES_BEFORE = ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled')
STATUSES = ('awaiting_approval',) + STATUSES_BEFORE


def _role_enum():
    return sa.Enum(*ROLES, name='member_role', native_enum=False, create_constraint=True, length=20)


def upgrade():
    _create_companies_and_price_lists()
    _customers_become_companies()
    _keys_and_orders_belong_to_companies()
    _order_status_awaiting_approval(STATUSES)


def _create_companies_and_price_lists():
    op.create_table(
        'company',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('vat_id', sa.String(length=20), nullable=False),
        sa.Column('billing_line1', sa.String(length=200), nullable=False),
        sa.Column('billing_line2', sa.String(length=200), nullable=False),
        sa.Column('billing_city', sa.String(length=100), nullable=False),
        sa.Column('billing_postal_code', sa.String(length=20), nullable=False),
        sa.Column('billing_country', sa.String(length=2), nullable=False),
        sa.Column('payment_terms', sa.String(length=12), nullable=False),
        sa.Column('credit_limit', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('approval_threshold', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("payment_terms = 'prepaid' OR payment_terms LIKE 'net\\_%' ESCAPE '\\'",
                           name=op.f('ck_company_payment_terms_known')),
        sa.CheckConstraint('credit_limit IS NULL OR credit_limit >= 0',
                           name=op.f('ck_company_credit_limit_not_negative')),
        sa.CheckConstraint('approval_threshold IS NULL OR approval_threshold >= 0',
                           name=op.f('ck_company_threshold_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_company')),
    )
    op.create_index('ix_company_name_id', 'company', ['name', 'id'], unique=False)
    op.create_table(
        'price_list',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=True),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to',
                           name=op.f('ck_price_list_dates_in_order')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_price_list_company_id_company')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list')),
    )
    op.create_index(op.f('ix_price_list_company_id'), 'price_list', ['company_id'], unique=False)
    op.create_table(
        'price_list_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('price_list_id', sa.Integer(), nullable=False),
        sa.Column('variant_id', sa.Integer(), nullable=False),
        sa.Column('min_quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint('min_quantity >= 1', name=op.f('ck_price_list_item_min_quantity_positive')),
        sa.CheckConstraint('unit_price > 0', name=op.f('ck_price_list_item_price_positive')),
        sa.ForeignKeyConstraint(['price_list_id'], ['price_list.id'], ondelete='CASCADE',
                                name=op.f('fk_price_list_item_price_list_id_price_list')),
        sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_price_list_item_variant_id_variant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_item')),
        sa.UniqueConstraint('price_list_id', 'variant_id', 'min_quantity',
                            name=op.f('uq_price_list_item_price_list_id_variant_id_min_quantity')),
    )
    op.create_index(op.f('ix_price_list_item_variant_id'), 'price_list_item', ['variant_id'], unique=False)


def _customers_become_companies():
    """One company per customer, with the customer's id; the customer becomes its admin member."""
    op.execute(
        "INSERT INTO company (id, name, vat_id, billing_line1, billing_line2, billing_city, billing_postal_code, "
        "billing_country, payment_terms, created_at) "
        "SELECT id, company, '', '', '', '', '', '', 'prepaid', created_at FROM customer")
    if op.get_bind().dialect.name == 'postgresql':  # the ids were given: move the sequence past them
        op.execute("SELECT setval(pg_get_serial_sequence('company', 'id'), COALESCE(MAX(id), 1), "
                   "MAX(id) IS NOT NULL) FROM company")
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('role', _role_enum(), nullable=True))
        batch_op.add_column(sa.Column('name', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE customer SET company_id = id, role = 'admin', joined_at = created_at")
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.alter_column('company_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('role', existing_type=_role_enum(), nullable=False)
        batch_op.alter_column('name', existing_type=sa.String(length=120), server_default=None)
        batch_op.create_foreign_key(batch_op.f('fk_customer_company_id_company'), 'company', ['company_id'], ['id'])
        batch_op.create_index('ix_customer_company_id_id', ['company_id', 'id'], unique=False)
        batch_op.drop_column('company')


def _keys_and_orders_belong_to_companies():
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('role', _role_enum(), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_key SET company_id = customer_id, role = 'buyer'")
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.alter_column('company_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('role', existing_type=_role_enum(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_key_company_id_company'), 'company', ['company_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_api_key_key_role_not_admin'), "role IN ('buyer', 'approver')")
        batch_op.create_index('ix_api_key_company_id_id', ['company_id', 'id'], unique=False)

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
    op.execute('UPDATE "order" SET company_id = customer_id')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.alter_column('company_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_company_id_company'), 'company', ['company_id'], ['id'])
        batch_op.drop_index('ix_order_customer_id_placed_at_id')
        batch_op.create_index('ix_order_company_id_placed_at_id', ['company_id', 'placed_at', 'id'], unique=False)
        batch_op.create_index('ix_order_customer_id', ['customer_id'], unique=False)

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_list_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_order_line_price_list_id_price_list'), 'price_list',
                                    ['price_list_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_order_line_price_list_id'), ['price_list_id'], unique=False)


def _order_status_awaiting_approval(statuses):
    """The status CHECKs of order and its history, with the given statuses."""
    allowed = ", ".join(f"'{s}'" for s in statuses)
    for table, columns in (('order', ('status',)), ('order_status_change', ('from_status', 'to_status'))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                name = 'order_status' if column == 'status' else column
                batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
                batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), f"{column} IN ({allowed})")


def downgrade():
    # Orders still awaiting approval go back to pending: the schema before knew no approvals.
    op.execute("UPDATE \"order\" SET status = 'pending' WHERE status = 'awaiting_approval'")
    op.execute("UPDATE order_status_change SET from_status = 'pending' WHERE from_status = 'awaiting_approval'")
    op.execute("UPDATE order_status_change SET to_status = 'pending' WHERE to_status = 'awaiting_approval'")
    _order_status_awaiting_approval(STATUSES_BEFORE)
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_price_list_id'))
        batch_op.drop_constraint(batch_op.f('fk_order_line_price_list_id_price_list'), type_='foreignkey')
        batch_op.drop_column('price_list_id')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index('ix_order_customer_id')
        batch_op.drop_index('ix_order_company_id_placed_at_id')
        batch_op.create_index('ix_order_customer_id_placed_at_id', ['customer_id', 'placed_at', 'id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_order_company_id_company'), type_='foreignkey')
        batch_op.drop_column('company_id')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index('ix_api_key_company_id_id')
        batch_op.drop_constraint(op.f('ck_api_key_key_role_not_admin'), type_='check')
        batch_op.drop_constraint(op.f('ck_api_key_member_role'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_api_key_company_id_company'), type_='foreignkey')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('role')
        batch_op.drop_column('company_id')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company', sa.String(length=200), nullable=True))
    op.execute("UPDATE customer SET company = (SELECT name FROM company WHERE company.id = customer.company_id)")
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.alter_column('company', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_index('ix_customer_company_id_id')
        batch_op.drop_constraint(op.f('ck_customer_member_role'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_customer_company_id_company'), type_='foreignkey')
        batch_op.drop_column('joined_at')
        batch_op.drop_column('name')
        batch_op.drop_column('role')
        batch_op.drop_column('company_id')
    op.drop_index(op.f('ix_price_list_item_variant_id'), table_name='price_list_item')
    op.drop_table('price_list_item')
    op.drop_index(op.f('ix_price_list_company_id'), table_name='price_list')
    op.drop_table('price_list')
    op.drop_index('ix_company_name_id', table_name='company')
    op.drop_table('company')
