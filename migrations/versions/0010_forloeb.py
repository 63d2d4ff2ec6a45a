"""Forløb: a volunteer and a person we help paired for months, their check-ins, and the private
weekly need that carries a forløb's visits

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 02:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

import volunteer.db

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('private', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'forloeb',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('activity_type_id', sa.Integer(), nullable=False),
        sa.Column('need_id', sa.Integer(), nullable=True),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('start_time', sa.Time(), nullable=False),
        sa.Column('end_time', sa.Time(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('explanation', sa.JSON(), nullable=False),
        sa.Column('proposed_at', volunteer.db.UTCDateTime(), nullable=False),
        sa.Column('activated_on', sa.Date(), nullable=True),
        sa.Column('paused_on', sa.Date(), nullable=True),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('end_reason', sa.String(length=20), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', volunteer.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('proposed', 'active', 'paused', 'ended')", name=op.f('ck_forloeb_state')
        ),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('declined', 'withdrawn', 'volunteer_stopped', "
            "'person_stopped', 'not_a_match', 'moved', 'other')",
            name=op.f('ck_forloeb_reason'),
        ),
        sa.CheckConstraint(
            "state != 'ended' OR (ended_on IS NOT NULL AND end_reason IS NOT NULL)",
            name=op.f('ck_forloeb_ended'),
        ),
        sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_forloeb_weekday')),
        sa.CheckConstraint('end_time > start_time', name=op.f('ck_forloeb_end_after_start')),
        sa.ForeignKeyConstraint(
            ['activity_type_id'], ['activity_types.id'],
            name=op.f('fk_forloeb_activity_type_id_activity_types'), ondelete='RESTRICT',
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'],
            name=op.f('fk_forloeb_created_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], ['users.id'],
            name=op.f('fk_forloeb_decided_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['need_id'], ['needs.id'], name=op.f('fk_forloeb_need_id_needs'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisations.id'],
            name=op.f('fk_forloeb_organisation_id_organisations'), ondelete='RESTRICT',
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['persons.id'],
            name=op.f('fk_forloeb_person_id_persons'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['volunteer_id'], ['users.id'],
            name=op.f('fk_forloeb_volunteer_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forloeb')),
        info={'helped_person': True},
    )
    with op.batch_alter_table('forloeb', schema=None) as batch_op:
        for column in ('person_id', 'volunteer_id', 'organisation_id', 'need_id', 'state'):
            batch_op.create_index(batch_op.f(f'ix_forloeb_{column}'), [column], unique=False)
    op.create_table(
        'forloeb_checkins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('forloeb_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('respondent', sa.String(length=10), nullable=False),
        sa.Column('asked_at', volunteer.db.UTCDateTime(), nullable=False),
        sa.Column('answer', sa.String(length=10), nullable=True),
        sa.Column('answered_at', volunteer.db.UTCDateTime(), nullable=True),
        sa.Column('handled_at', volunteer.db.UTCDateTime(), nullable=True),
        sa.Column('handled_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "respondent IN ('volunteer', 'contact')", name=op.f('ck_forloeb_checkins_respondent')
        ),
        sa.CheckConstraint(
            "answer IS NULL OR answer IN ('good', 'talk', 'stop')",
            name=op.f('ck_forloeb_checkins_answer'),
        ),
        sa.ForeignKeyConstraint(
            ['forloeb_id'], ['forloeb.id'],
            name=op.f('fk_forloeb_checkins_forloeb_id_forloeb'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['handled_by_id'], ['users.id'],
            name=op.f('fk_forloeb_checkins_handled_by_id_users'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forloeb_checkins')),
        sa.UniqueConstraint(
            'forloeb_id', 'due_on', 'respondent',
            name=op.f('uq_forloeb_checkins_forloeb_id_due_on_respondent'),
        ),
        info={'helped_person': True},
    )
    with op.batch_alter_table('forloeb_checkins', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_forloeb_checkins_forloeb_id'), ['forloeb_id'], unique=False
        )


def downgrade():
    op.drop_table('forloeb_checkins')
    op.drop_table('forloeb')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_column('private')
