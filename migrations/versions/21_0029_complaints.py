"""complaint, complaint_lot, complaint_attachment and complaint_sequence: a buyer's complaint on an order line
(and the lots it drew), its investigation and signed close, its attachments (metadata; the files are in the
document storage), and the yearly counter of complaint numbers. No existing data changes.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 01:30:00

"""
from alembic import op
import sqlalchemy as sa

from shop.platform.database import UTCDateTime


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'complaint_sequence',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_complaint_sequence')),
    )
    op.create_table(
        'complaint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('filed_by', sa.String(length=200), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('order_line_id', sa.Integer(), nullable=False),
        sa.Column('order_number', sa.String(length=20), nullable=False),
        sa.Column('sku', sa.String(length=40), nullable=False),
        sa.Column('category', _enum('complaint_category', 'quality', 'delivery', 'documentation', 'other'),
                  nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('filed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', _enum('complaint_status', 'open', 'investigating', 'closed'), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('root_cause', sa.Text(), nullable=False),
        sa.Column('corrective_action', sa.Text(), nullable=False),
        sa.Column('preventive_action', sa.Text(), nullable=False),
        sa.Column('investigated_by_id', sa.Integer(), nullable=True),
        sa.Column('resolution', sa.Text(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('signer_name', sa.String(length=120), nullable=False),
        sa.Column('signer_email', sa.String(length=254), nullable=False),
        sa.Column('signature_meaning', sa.Text(), nullable=False),
        sa.Column('recalled_lot_number', sa.String(length=40), nullable=True),
        sa.Column('recalled_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_complaint_company_id_company')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_complaint_customer_id_customer')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_complaint_order_id_order')),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'],
                                name=op.f('fk_complaint_order_line_id_order_line')),
        sa.ForeignKeyConstraint(['investigated_by_id'], ['staff_user.id'],
                                name=op.f('fk_complaint_investigated_by_id_staff_user')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['staff_user.id'], name=op.f('fk_complaint_closed_by_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
        sa.UniqueConstraint('number', name=op.f('uq_complaint_number')),
    )
    op.create_index('ix_complaint_company_id_filed_at_id', 'complaint', ['company_id', 'filed_at', 'id'])
    op.create_index('ix_complaint_status_filed_at_id', 'complaint', ['status', 'filed_at', 'id'])
    op.create_index(op.f('ix_complaint_customer_id'), 'complaint', ['customer_id'])
    op.create_index(op.f('ix_complaint_order_id'), 'complaint', ['order_id'])
    op.create_index(op.f('ix_complaint_order_line_id'), 'complaint', ['order_line_id'])
    op.create_table(
        'complaint_lot',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('lot_number', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_lot_complaint_id_complaint'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_complaint_lot_batch_id_batch')),
        sa.PrimaryKeyConstraint('complaint_id', 'batch_id', name=op.f('pk_complaint_lot')),
    )
    op.create_index('ix_complaint_lot_batch_id', 'complaint_lot', ['batch_id'])
    op.create_table(
        'complaint_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=60), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'],
                                name=op.f('fk_complaint_attachment_complaint_id_complaint'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_attachment')),
    )
    op.create_index('ix_complaint_attachment_complaint_id', 'complaint_attachment', ['complaint_id'])


def downgrade():
    op.drop_index('ix_complaint_attachment_complaint_id', table_name='complaint_attachment')
    op.drop_table('complaint_attachment')
    op.drop_index('ix_complaint_lot_batch_id', table_name='complaint_lot')
    op.drop_table('complaint_lot')
    for name in ('ix_complaint_order_line_id', 'ix_complaint_order_id', 'ix_complaint_customer_id',
                 'ix_complaint_status_filed_at_id', 'ix_complaint_company_id_filed_at_id'):
        op.drop_index(name, table_name='complaint')
    op.drop_table('complaint')
    op.drop_table('complaint_sequence')
