"""The people we help: persons (borgere) with their wishes, windows and consent, and referrals
(henvisninger) from people without an account

Adds ``persons``, ``person_activity_types``, ``person_windows`` and ``referrals``, and
``activity_types.for_persons`` (true for spisevenner and besoegsven, the types a referral can ask
for). Additive: the previous version's code reads none of it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('town', sa.String(length=80), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('local_area_id', sa.Integer(), nullable=True),
    sa.Column('interests', sa.Text(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('volunteer_wish', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=True),
    sa.Column('contact_relation', sa.String(length=80), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('consent_given_by', sa.String(length=120), nullable=True),
    sa.Column('consent_given_on', sa.Date(), nullable=True),
    sa.Column('consent_method', sa.String(length=20), nullable=True),
    sa.Column('consent_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('waiting_since', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("consent_method IS NULL OR consent_method IN ('written', 'oral_to_staff', 'power_of_attorney')", name=op.f('ck_persons_consent_method')),
    sa.CheckConstraint("state != 'ended' OR ended_on IS NOT NULL", name=op.f('ck_persons_ended_on')),
    sa.CheckConstraint("state IN ('waiting', 'paired', 'ended')", name=op.f('ck_persons_state')),
    sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180', name=op.f('ck_persons_point')),
    sa.ForeignKeyConstraint(['consent_recorded_by_id'], ['users.id'], name=op.f('fk_persons_consent_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_persons_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['local_area_id'], ['local_areas.id'], name=op.f('fk_persons_local_area_id_local_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_persons_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_local_area_id'), ['local_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_postcode'), ['postcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_state'), ['state'], unique=False)

    op.create_table('person_activity_types',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('activity_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_type_id'], ['activity_types.id'], name=op.f('fk_person_activity_types_activity_type_id_activity_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_activity_types_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'activity_type_id', name=op.f('pk_person_activity_types')),
    )
    op.create_table('person_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_person_windows_end_after_start')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_person_windows_weekday')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_windows_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_windows')),
    )
    with op.batch_alter_table('person_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_windows_person_id'), ['person_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('local_area_id', sa.Integer(), nullable=True),
    sa.Column('referrer_name', sa.String(length=120), nullable=False),
    sa.Column('referrer_relation', sa.String(length=10), nullable=False),
    sa.Column('referrer_phone', sa.String(length=32), nullable=True),
    sa.Column('referrer_email', sa.String(length=254), nullable=True),
    sa.Column('person_name', sa.String(length=120), nullable=False),
    sa.Column('person_postcode', sa.String(length=4), nullable=False),
    sa.Column('person_town', sa.String(length=80), nullable=False),
    sa.Column('person_address', sa.String(length=200), nullable=False),
    sa.Column('person_phone', sa.String(length=32), nullable=True),
    sa.Column('activity_codes', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=2), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("referrer_relation IN ('relative', 'staff', 'self', 'other')", name=op.f('ck_referrals_referrer_relation')),
    sa.CheckConstraint("state IN ('new', 'accepted', 'declined')", name=op.f('ck_referrals_state')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_referrals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['local_area_id'], ['local_areas.id'], name=op.f('fk_referrals_local_area_id_local_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_referrals_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_referrals_person_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_state'), ['state'], unique=False)

    with op.batch_alter_table('activity_types', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('for_persons', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE activity_types SET for_persons = true WHERE code IN ('spisevenner', 'besoegsven')"
    )



def downgrade():
    with op.batch_alter_table('activity_types', schema=None) as batch_op:
        batch_op.drop_column('for_persons')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_state'))
        batch_op.drop_index(batch_op.f('ix_referrals_organisation_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('person_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_windows_person_id'))

    op.drop_table('person_windows')
    op.drop_table('person_activity_types')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_state'))
        batch_op.drop_index(batch_op.f('ix_persons_postcode'))
        batch_op.drop_index(batch_op.f('ix_persons_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_persons_local_area_id'))

    op.drop_table('persons')
