"""Waiting lists ordered by a queue number taken under the need's lock

Until now the waiting list was ordered by ``assignments.created_at``, read from the web node's
clock before the sign-up waited for the need's lock: under load (and with several nodes whose
clocks differ) a later sign-up could rank earlier. Sign-ups now take the next number of their
need while they hold the lock.

Existing rows are numbered in their old order (created_at, id), so nobody's place changes.
Additive: the previous version's code keeps working on the new schema.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 14:00:40.570648

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_number', sa.Integer(), nullable=True))

    op.execute(
        """
        UPDATE assignments SET queue_number = (
            SELECT COUNT(*) FROM assignments AS earlier
            WHERE earlier.need_id = assignments.need_id
              AND (earlier.created_at < assignments.created_at
                   OR (earlier.created_at = assignments.created_at
                       AND earlier.id <= assignments.id))
        )
        """
    )

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_assignments_need_id_queue_number'), ['need_id', 'queue_number']
        )


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_assignments_need_id_queue_number'), type_='unique')
        batch_op.drop_column('queue_number')
