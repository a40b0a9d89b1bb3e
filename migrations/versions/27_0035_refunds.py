"""refunds: money paid back to a buyer, recorded by finance, when a credit note credits what was already paid (the
credit note moves that part off its invoice: it becomes the order's money that no invoice has taken, which a later
invoice of the order takes, or a refund gives back).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 12:50:00

"""
import sqlalchemy as sa
from alembic import op

from shop.platform.database import UTCDateTime

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'refund',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=140), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_refund_amount_positive')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_refund_company_id_company')),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_refund_order_id_order')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_refund_staff_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund')),
    )
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.create_index('ix_refund_company_id_paid_on_id', ['company_id', 'paid_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refund_order_id'), ['order_id'], unique=False)


def downgrade():
    op.drop_table('refund')
