"""catalog version: `product.catalog_version` counts every change to what a product page shows from the catalog
(the product row, its specification, pack sizes, price breaks and documents). Triggers on PostgreSQL and SQLite
count it up in the same transaction as the change, whichever code or tool writes it, so that a process that
caches a product's catalog data can tell, from the version read beside the live stock, that its copy is stale.

A later migration that rebuilds one of these tables on SQLite (batch mode copies it) must create its triggers again.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 22:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

# Table -> how a changed row names its product (ROW is NEW or OLD).
PRODUCT_OF = {
    'spec_test': 'ROW.product_id',
    'variant': 'ROW.product_id',
    'product_document': 'ROW.product_id',
    'price_break': '(SELECT variant.product_id FROM variant WHERE variant.id = ROW.variant_id)',
}
BUMP = 'UPDATE product SET catalog_version = catalog_version + 1 WHERE id = {}'


def _postgresql():
    yield """CREATE FUNCTION product_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_jsonb(NEW) - 'catalog_version' IS DISTINCT FROM to_jsonb(OLD) - 'catalog_version' THEN
        NEW.catalog_version := OLD.catalog_version + 1;
    END IF;
    RETURN NEW;
END $$"""
    yield ("CREATE TRIGGER product_catalog_changed BEFORE UPDATE ON product FOR EACH ROW "
           "EXECUTE FUNCTION product_catalog_changed()")
    for table, product in PRODUCT_OF.items():
        yield f"""CREATE FUNCTION {table}_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {BUMP.format(product.replace('ROW', 'OLD'))}; END IF;
    IF TG_OP <> 'DELETE' THEN {BUMP.format(product.replace('ROW', 'NEW'))}; END IF;
    RETURN NULL;
END $$"""
        yield (f"CREATE TRIGGER {table}_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_catalog_changed()")


def _sqlite():
    # An UPDATE that sets the version itself (this trigger's own, or one by hand) is not counted again.
    yield """CREATE TRIGGER product_catalog_changed AFTER UPDATE ON product FOR EACH ROW
WHEN NEW.catalog_version IS OLD.catalog_version
BEGIN UPDATE product SET catalog_version = OLD.catalog_version + 1 WHERE id = NEW.id; END"""
    for table, product in PRODUCT_OF.items():
        for event, rows in (('INSERT', ('NEW',)), ('UPDATE', ('OLD', 'NEW')), ('DELETE', ('OLD',))):
            body = ' '.join(BUMP.format(product.replace('ROW', row)) + ';' for row in rows)
            yield (f"CREATE TRIGGER {table}_catalog_{event.lower()} AFTER {event} ON {table} FOR EACH ROW "
                   f"BEGIN {body} END")


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalog_version', sa.Integer(), server_default='0', nullable=False))
    # After the batch above: SQLite's batch mode copies the table, which would drop triggers made before it.
    for statement in _postgresql() if op.get_bind().dialect.name == 'postgresql' else _sqlite():
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in ('product', *PRODUCT_OF):
            op.execute(f'DROP TRIGGER {table}_catalog_changed ON {table}')
            op.execute(f'DROP FUNCTION {table}_catalog_changed()')
    else:
        op.execute('DROP TRIGGER product_catalog_changed')
        for table in PRODUCT_OF:
            for event in ('insert', 'update', 'delete'):
                op.execute(f'DROP TRIGGER {table}_catalog_{event}')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('catalog_version')
