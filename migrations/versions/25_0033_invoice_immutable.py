"""invoice immutable: an issued invoice or credit note never changes, and the database refuses it too. Triggers on
PostgreSQL and SQLite refuse an UPDATE of any invoice column except what payments and credit notes add up
(`amount_paid`, `amount_credited`), and any UPDATE of an invoice line; a DELETE is left to the foreign keys. Also
who issued each document (`invoice.staff_id`), and the sums in the invoice's CHECKs rounded to cents (on SQLite they
are float sums).

A later migration that rebuilds either table on SQLite (batch mode copies it) must create its trigger again.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 19:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

REFUSED = 'an issued invoice or credit note never changes: issue a credit note to correct it'
# Every column of invoice as of this revision but the two that payments and credit notes count up. (PostgreSQL's
# trigger compares whole rows instead, so that a column added later is covered there without a new trigger.)
ISSUED_COLUMNS = (
    'id', 'kind', 'number', 'year', 'serial', 'company_id', 'order_id', 'order_number', 'shipment_id',
    'shipment_number', 'corrects_id', 'issued_on', 'due_on', 'payment_terms', 'currency', 'buyer_reference',
    'buyer_name', 'buyer_vat_id', 'buyer_line1', 'buyer_line2', 'buyer_city', 'buyer_postal_code', 'buyer_country',
    'ship_country', 'vat_rule', 'vat_rate', 'net', 'vat', 'gross', 'staff_id', 'created_at',
)

POSTGRESQL = (
    f"""CREATE FUNCTION invoice_issued_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_jsonb(NEW) - 'amount_paid' - 'amount_credited' IS DISTINCT FROM
       to_jsonb(OLD) - 'amount_paid' - 'amount_credited' THEN
        RAISE EXCEPTION '{REFUSED} (%)', OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$""",
    "CREATE TRIGGER invoice_issued_unchanged BEFORE UPDATE ON invoice FOR EACH ROW "
    "EXECUTE FUNCTION invoice_issued_unchanged()",
    f"""CREATE FUNCTION invoice_line_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'integrity_constraint_violation';
END $$""",
    "CREATE TRIGGER invoice_line_unchanged BEFORE UPDATE ON invoice_line FOR EACH ROW "
    "EXECUTE FUNCTION invoice_line_unchanged()",
)

SQLITE = (
    f"""CREATE TRIGGER invoice_issued_unchanged BEFORE UPDATE ON invoice FOR EACH ROW
WHEN {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in ISSUED_COLUMNS)}
BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    f"""CREATE TRIGGER invoice_line_unchanged BEFORE UPDATE ON invoice_line FOR EACH ROW
BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
)


# The sums in the invoice's CHECKs, rounded to cents: SQLite adds decimals as binary floats (12.50 + 2.38 is
# 14.879999...), so an exact comparison refused invoices whose totals add up.
CHECKS = {
    'totals_add_up': ('net >= 0 AND vat >= 0 AND gross = net + vat',
                      'net >= 0 AND vat >= 0 AND gross = round(net + vat, 2)'),
    'settled_at_most_gross': (
        'amount_paid >= 0 AND amount_credited >= 0 AND amount_paid + amount_credited <= gross',
        'amount_paid >= 0 AND amount_credited >= 0 AND round(amount_paid + amount_credited, 2) <= gross'),
}


def _checks(which):
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        for name, texts in CHECKS.items():
            batch_op.drop_constraint(op.f(f'ck_invoice_{name}'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_invoice_{name}'), texts[which])


def upgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invoice_staff_id_staff_user'), 'staff_user', ['staff_id'], ['id'])
    _checks(1)
    # After the batch above: SQLite's batch mode copies the table, which would drop triggers made before it.
    for statement in POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER invoice_line_unchanged ON invoice_line')
        op.execute('DROP TRIGGER invoice_issued_unchanged ON invoice')
        op.execute('DROP FUNCTION invoice_line_unchanged()')
        op.execute('DROP FUNCTION invoice_issued_unchanged()')
    else:
        op.execute('DROP TRIGGER invoice_line_unchanged')
        op.execute('DROP TRIGGER invoice_issued_unchanged')
    _checks(0)
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invoice_staff_id_staff_user'), type_='foreignkey')
        batch_op.drop_column('staff_id')
