"""mail_attachments: a message in the outbox carries files (an order acknowledgement's PDF), stored with it so that a
retry sends the document as it was when the message was written

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 15:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_mail_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['mail_id'], ['outbox_mail.id'], name=op.f('fk_outbox_mail_attachment_mail_id_outbox_mail'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail_attachment'))
    )
    with op.batch_alter_table('outbox_mail_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_mail_attachment_mail_id'), ['mail_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_mail_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_mail_attachment_mail_id'))
    op.drop_table('outbox_mail_attachment')
