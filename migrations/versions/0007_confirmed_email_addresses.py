"""Confirmed email addresses: a volunteer confirms their address (a link mailed at sign-up)
before anything about them goes to third parties (a centre, a contact person, the matching)

Adds ``users.email_confirmed_at``. Accounts that exist before this revision are counted as
confirmed at their creation: their addresses have already carried Samskab's invitations,
reminders and password resets, and stopping their volunteers' sign-ups overnight would hurt
the people they visit more than it protects. Every account made from now on, and every
changed address, is confirmed by a link (``volunteer.auth.services``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
