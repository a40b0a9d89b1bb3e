"""outbox_mail: every e-mail a row written with its cause, sent by a worker, retried, dead-lettered; an event's
fan-out to webhooks and to e-mail marked apart (outbox_event.webhooks_fanned_out_at, .mail_fanned_out_at; handed_over_at is renamed), its failures counted and given up on;
order_notice.mail_id (the message that carries the notice, whose sending sets its sent_at)

Existing events count as mailed when they were handed over (until now one fan-out did both). The sweep's index
of waiting events takes the new condition.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03 18:30:00

"""
from alembic import op
import sqlalchemy as sa

import shop.platform.database


revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD_WAITING = sa.text('handed_over_at IS NULL')
NEW_WAITING = sa.text('failed_at IS NULL AND (webhooks_fanned_out_at IS NULL OR mail_fanned_out_at IS NULL)')
DUE = sa.text('sent_at IS NULL AND failed_at IS NULL')
FAILED = sa.text('failed_at IS NOT NULL')


def _waiting_index(batch_op, where) -> None:
    batch_op.create_index('ix_outbox_event_waiting', ['created_at'], unique=False, postgresql_where=where,
                          sqlite_where=where)


def upgrade():
    op.drop_index('ix_outbox_event_waiting', table_name='outbox_event')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        # handed_over_at meant fanned out; with two channels each has its own mark.
        batch_op.alter_column('handed_over_at', new_column_name='webhooks_fanned_out_at')
        batch_op.add_column(sa.Column('mail_fanned_out_at', shop.platform.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fan_out_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed_at', shop.platform.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=200), nullable=True))
    op.execute('UPDATE outbox_event SET mail_fanned_out_at = webhooks_fanned_out_at')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        _waiting_index(batch_op, NEW_WAITING)

    op.create_table('outbox_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', shop.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', shop.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', shop.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_event.id'], name=op.f('fk_outbox_mail_event_id_outbox_event'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail'))
    )
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_mail_due', ['next_attempt_at'], unique=False, postgresql_where=DUE, sqlite_where=DUE)
        batch_op.create_index(batch_op.f('ix_outbox_mail_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_outbox_mail_failed', ['id'], unique=False, postgresql_where=FAILED, sqlite_where=FAILED)

    with op.batch_alter_table('order_notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_notice_mail_id'), ['mail_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_notice_mail_id_outbox_mail'), 'outbox_mail', ['mail_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('order_notice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_notice_mail_id_outbox_mail'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_notice_mail_id'))
        batch_op.drop_column('mail_id')

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_mail_failed')
        batch_op.drop_index(batch_op.f('ix_outbox_mail_event_id'))
        batch_op.drop_index('ix_outbox_mail_due')
    op.drop_table('outbox_mail')

    op.drop_index('ix_outbox_event_waiting', table_name='outbox_event')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('fan_out_failures')
        batch_op.drop_column('mail_fanned_out_at')
        batch_op.alter_column('webhooks_fanned_out_at', new_column_name='handed_over_at')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        _waiting_index(batch_op, OLD_WAITING)
