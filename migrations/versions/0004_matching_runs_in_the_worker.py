"""Matching runs go to the worker: a run is queued, then running, then done or failed

Until now a run was solved inside the coordinator's POST (up to 20 seconds, next to gunicorn's
timeout) and its row written only when done. Now the POST queues a run and the scheduler's
``match_runs`` job solves it, so the row exists before the engine's figures do: ``status`` may
be empty until the run is done, and ``state``, ``started_at``, ``finished_at`` and ``error``
record how far it got. A partial unique index allows one queued or running run per
organisation.

Existing rows were all solved, so they become ``done`` (started and finished when created).
Additive: the previous version's code writes only solved runs and leaves ``state`` out, and the
server default ``done`` is right for those (drop it once no node runs that version).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('queued', 'running')"


def upgrade():
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('state', sa.String(length=8), server_default='done', nullable=False)
        )
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))

    op.execute(
        "UPDATE match_runs SET started_at = created_at, finished_at = created_at"
    )

    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=10), nullable=True)
        batch_op.create_check_constraint(
            op.f('ck_match_runs_state'), "state IN ('queued', 'running', 'done', 'failed')"
        )

    op.create_index(
        'uq_match_runs_organisation_id_active',
        'match_runs',
        ['organisation_id'],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade():
    op.drop_index('uq_match_runs_organisation_id_active', table_name='match_runs')
    # The old schema only knew finished runs: unfinished ones have no figures to keep.
    op.execute("DELETE FROM match_runs WHERE state <> 'done'")
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_match_runs_state'), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_column('error')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('state')
