"""idempotency records without a state: a record is written only with its answer

An Idempotency-Key's record is now INSERTed in the same transaction as the work it answers, and a request
still in flight is recognised by its advisory lock (PostgreSQL) or the write lock (SQLite), so the
`in_flight` / `done` state column is gone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

STATE = sa.Enum('in_flight', 'done', name='idempotency_state', native_enum=False, create_constraint=True, length=20)


def upgrade():
    # Records still in flight belong to requests that can no longer finish under the new scheme.
    op.execute("DELETE FROM idempotency_record WHERE state = 'in_flight'")
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_idempotency_record_idempotency_state'), type_='check')
        batch_op.drop_column('state')


def downgrade():
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', STATE, nullable=False, server_default='done'))
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.alter_column('state', server_default=None)
