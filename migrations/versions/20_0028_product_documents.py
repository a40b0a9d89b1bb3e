"""product_document and order_document: every version of each product's SDS, TDS, specification sheet and
certificates (the file itself in document storage, under a generated key), and the versions current when each
order was confirmed. No existing data changes.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 01:45:00

"""
from alembic import op
import sqlalchemy as sa

from shop.platform.database import UTCDateTime


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'product_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('version', sa.String(length=40), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('storage_key', sa.String(length=60), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=200), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_document_product_id_product'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_document')),
        sa.UniqueConstraint('product_id', 'kind', 'version', name=op.f('uq_product_document_product_id_kind_version')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_product_document_storage_key')),
    )
    op.create_index('ix_product_document_current', 'product_document', ['product_id', 'kind', 'issued_on', 'id'])
    op.create_index('ix_product_document_valid_until', 'product_document', ['valid_until'])
    op.create_table(
        'order_document',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['product_document.id'],
                                name=op.f('fk_order_document_document_id_product_document'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_order_document_order_id_order'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('order_id', 'document_id', name=op.f('pk_order_document')),
    )
    op.create_index(op.f('ix_order_document_document_id'), 'order_document', ['document_id'])


def downgrade():
    op.drop_index(op.f('ix_order_document_document_id'), table_name='order_document')
    op.drop_table('order_document')
    op.drop_index('ix_product_document_valid_until', table_name='product_document')
    op.drop_index('ix_product_document_current', table_name='product_document')
    op.drop_table('product_document')
