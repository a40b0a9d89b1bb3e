"""customer_specification and customer_limit: a company's own, tighter limits on a grade's numeric tests
(one specification per company and grade, one limit per test). Its orders draw only from lots that meet them.
No existing data changes.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 15:00:00

"""
from alembic import op
import sqlalchemy as sa

from shop.platform.database import UTCDateTime


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'customer_specification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_customer_specification_company_id_company'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_customer_specification_product_id_product'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_specification')),
        sa.UniqueConstraint('company_id', 'product_id', name=op.f('uq_customer_specification_company_id_product_id')),
    )
    op.create_index(op.f('ix_customer_specification_product_id'), 'customer_specification', ['product_id'])
    op.create_table(
        'customer_limit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('specification_id', sa.Integer(), nullable=False),
        sa.Column('spec_test_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('min_value', sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column('max_value', sa.Numeric(precision=14, scale=4), nullable=True),
        sa.CheckConstraint('min_value IS NOT NULL OR max_value IS NOT NULL', name=op.f('ck_customer_limit_some_limit')),
        sa.CheckConstraint('min_value IS NULL OR max_value IS NULL OR min_value <= max_value',
                           name=op.f('ck_customer_limit_limits_ordered')),
        sa.ForeignKeyConstraint(['spec_test_id'], ['spec_test.id'], name=op.f('fk_customer_limit_spec_test_id_spec_test'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['specification_id'], ['customer_specification.id'],
                                name=op.f('fk_customer_limit_specification_id_customer_specification'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_limit')),
        sa.UniqueConstraint('specification_id', 'spec_test_id', name=op.f('uq_customer_limit_specification_id_spec_test_id')),
    )
    op.create_index('ix_customer_limit_spec_test_id', 'customer_limit', ['spec_test_id'])


def downgrade():
    op.drop_index('ix_customer_limit_spec_test_id', table_name='customer_limit')
    op.drop_table('customer_limit')
    op.drop_index(op.f('ix_customer_specification_product_id'), table_name='customer_specification')
    op.drop_table('customer_specification')
