"""sessions that end, no account lock-out, lot numbers from a safe set of characters

- customer and staff_user get `session_token`: part of every session's user id, replaced on sign-out, password
  change and deactivation, so that every session issued before stops working.
- `failed_logins` and `locked_until` go: failed sign-ins are throttled per account and client address in the
  rate-limit storage, never by locking the account (which let anyone lock its owner out).
- Lot numbers must be 1-40 letters, digits, '-' and '_' (they go into URLs, file names and CoA headers). A lot
  number is printed on drums and certificates, so it is never rewritten here: a database holding another lot
  number stops the upgrade with a message that lists them.

Revision ID: 0011
Revises: 0002
Create Date: 2026-11-28 09:00:00

"""
import re
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0002'
branch_labels = None
depends_on = None

LOT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


class UnsafeLotNumbers(RuntimeError):
    """Lot numbers outside the safe set: rename them (with the people who label drums and CoAs) first."""


def _refuse_unsafe_lot_numbers(conn) -> None:
    lots = [lot for (lot,) in conn.execute(sa.text("SELECT lot_number FROM batch")) if not LOT_NUMBER.fullmatch(lot)]
    if lots:
        shown = ", ".join(repr(lot) for lot in lots[:20]) + (f" and {len(lots) - 20} more" if len(lots) > 20 else "")
        raise UnsafeLotNumbers(
            f"Upgrade stopped: {len(lots)} lot number(s) use characters other than letters, digits, '-' and '_' "
            f"(or are longer than 40): {shown}. Such lot numbers break the lot's pages and its CoA PDF. Rename each "
            "lot as it is labelled, e.g. UPDATE batch SET lot_number = 'A-B-1' WHERE lot_number = 'A/B-1'; then "
            "run `flask --app wsgi db upgrade` again. Nothing was changed.")


def upgrade():
    conn = op.get_bind()
    _refuse_unsafe_lot_numbers(conn)
    for table in ('customer', 'staff_user'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
        rows = conn.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
        for row_id in rows:
            conn.execute(sa.text(f"UPDATE {table} SET session_token = :token WHERE id = :id"),
                         {"token": secrets.token_urlsafe(24), "id": row_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
            batch_op.drop_column('failed_logins')
            batch_op.drop_column('locked_until')


def downgrade():
    for table in ('customer', 'staff_user'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
            batch_op.drop_column('session_token')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('failed_logins', server_default=None)
