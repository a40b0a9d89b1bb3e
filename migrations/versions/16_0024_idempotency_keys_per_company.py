"""idempotency_record.company_id replaces customer_id: an Idempotency-Key is the company's, whichever of its members
or API keys sends it, for any operation (unique per company and key)

Each record takes its customer's company. Where two members of one company had used the same key, the oldest
record is the key's outcome and the others are deleted (a retry of a newer one is then told the key was reused,
or gets the oldest's answer for the same request, as from now on).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-05 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
    op.execute("UPDATE idempotency_record SET company_id = "
               "(SELECT customer.company_id FROM customer WHERE customer.id = idempotency_record.customer_id)")
    # One record per company and key: the oldest (by time, then id) stays.
    op.execute("DELETE FROM idempotency_record WHERE EXISTS (SELECT 1 FROM idempotency_record older "
               "WHERE older.company_id = idempotency_record.company_id AND older.key = idempotency_record.key "
               "AND (older.created_at < idempotency_record.created_at OR "
               "(older.created_at = idempotency_record.created_at AND older.id < idempotency_record.id)))")
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_idempotency_record_customer_id_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_idempotency_record_customer_id_customer'), type_='foreignkey')
        batch_op.drop_column('customer_id')
        batch_op.alter_column('company_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_idempotency_record_company_id_company'), 'company',
                                    ['company_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_record_company_id_key'),
                                          ['company_id', 'key'])


def downgrade():
    # A company's record goes back to its earliest member (records are retries' answers for a day: no more).
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
    op.execute("UPDATE idempotency_record SET customer_id = (SELECT min(customer.id) FROM customer "
               "WHERE customer.company_id = idempotency_record.company_id)")
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_idempotency_record_company_id_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_idempotency_record_company_id_company'), type_='foreignkey')
        batch_op.drop_column('company_id')
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_idempotency_record_customer_id_customer'), 'customer',
                                    ['customer_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_record_customer_id_key'),
                                          ['customer_id', 'key'])
