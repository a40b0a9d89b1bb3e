"""staff roles: a staff user holds one or more roles (staff_user_role); a lot signature records the role signed in

Every staff user keeps exactly the role they had: a quality user keeps quality, an admin stays admin and does
not gain quality (signing now needs the quality role itself; an admin who works in quality is given it on the
Staff page). No existing record becomes invalid: released lots stay released, and each signature keeps its
signer's role of the time (lot_signature.signer_role, taken from staff_user.role), so the CoA of a lot an admin
released says "admin", not "quality unit".

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 15:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ROLES = ('admin', 'warehouse', 'quality', 'fulfilment')


def _role_enum():
    return sa.Enum(*ROLES, name='staff_role', native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'staff_user_role',
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('role', _role_enum(), nullable=False),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], ondelete='CASCADE',
                                name=op.f('fk_staff_user_role_staff_user_id_staff_user')),
        sa.PrimaryKeyConstraint('staff_user_id', 'role', name=op.f('pk_staff_user_role')),
    )
    op.execute("INSERT INTO staff_user_role (staff_user_id, role) SELECT id, role FROM staff_user")

    with op.batch_alter_table('lot_signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer_role', _role_enum(), nullable=True))
    op.execute("UPDATE lot_signature SET signer_role = "
               "(SELECT role FROM staff_user WHERE staff_user.id = lot_signature.staff_id)")
    with op.batch_alter_table('lot_signature', schema=None) as batch_op:
        batch_op.alter_column('signer_role', existing_type=_role_enum(), nullable=False)

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_staff_user_staff_role'), type_='check')
        batch_op.drop_column('role')


def downgrade():
    # One role each again: the first a person holds in the order admin, quality, fulfilment, warehouse.
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', _role_enum(), nullable=True))
    op.execute("UPDATE staff_user SET role = (SELECT r.role FROM staff_user_role r WHERE r.staff_user_id = "
               "staff_user.id ORDER BY CASE r.role WHEN 'admin' THEN 0 WHEN 'quality' THEN 1 "
               "WHEN 'fulfilment' THEN 2 ELSE 3 END LIMIT 1)")
    op.execute("UPDATE staff_user SET role = 'warehouse' WHERE role IS NULL")
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=_role_enum(), nullable=False)
    with op.batch_alter_table('lot_signature', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_lot_signature_staff_role'), type_='check')
        batch_op.drop_column('signer_role')
    op.drop_table('staff_user_role')
