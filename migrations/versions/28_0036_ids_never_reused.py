"""ids never reused on SQLite: a deleted webhook endpoint's or price list's id is not given to the next one.

SQLite gives a new row the largest id + 1, so deleting the newest endpoint handed its id to the next endpoint
registered: a client's retried DELETE of the old id, a ping event's "endpoint 5" or the audit line of a deleted
price list would then name another one. AUTOINCREMENT (sqlite_sequence) never gives an id twice, as PostgreSQL's
sequences already do; SQLite sets it on a table only when the table is made, so both are made again (batch mode).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 21:10:00

"""
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

TABLES = ('webhook_endpoint', 'price_list')


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return  # PostgreSQL's sequences never give an id twice
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always',
                                  table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def upgrade():
    _recreate(True)


def downgrade():
    _recreate(False)
