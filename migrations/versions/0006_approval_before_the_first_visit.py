"""Approval before the first visit: an activity type may require that a coordinator meets and
approves each volunteer; their sign-up waits as ``pending`` until then

Adds ``activity_types.requires_approval`` (false for every existing type, so nothing changes
until an administrator switches it on), the ``approvals`` table (volunteer × organisation ×
activity type, with the date of the first conversation) and the ``pending`` assignment state.
Additive: the previous version's code never writes ``pending``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_STATES = (
    "'proposed', 'waitlisted', 'invited', 'accepted', 'declined', 'expired', 'withdrawn', 'ended'"
)
NEW_STATES = (
    "'proposed', 'waitlisted', 'invited', 'pending', 'accepted', 'declined', 'expired', "
    "'withdrawn', 'ended'"
)


def upgrade():
    op.add_column(
        'activity_types',
        sa.Column('requires_approval', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        'approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('activity_type_id', sa.Integer(), nullable=False),
        sa.Column('talked_on', sa.Date(), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['activity_type_id'], ['activity_types.id'],
            name=op.f('fk_approvals_activity_type_id_activity_types'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['approved_by_id'], ['users.id'],
            name=op.f('fk_approvals_approved_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisations.id'],
            name=op.f('fk_approvals_organisation_id_organisations'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['volunteer_id'], ['users.id'],
            name=op.f('fk_approvals_volunteer_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
        sa.UniqueConstraint(
            'volunteer_id', 'organisation_id', 'activity_type_id',
            name=op.f('uq_approvals_volunteer_id_organisation_id_activity_type_id'),
        ),
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assignments_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_assignments_state'), f"state IN ({NEW_STATES})")


def downgrade():
    # The old schema has no waiting for approval: such sign-ups are withdrawn.
    op.execute("UPDATE assignments SET state = 'withdrawn' WHERE state = 'pending'")
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assignments_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_assignments_state'), f"state IN ({OLD_STATES})")
    op.drop_table('approvals')
    with op.batch_alter_table('activity_types', schema=None) as batch_op:
        batch_op.drop_column('requires_approval')
