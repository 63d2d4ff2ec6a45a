"""The person's wish about the volunteer as a rule the matching reads: the volunteer's gender
they wish for and whether they asked for it as a requirement; and the volunteer's own,
optional gender

Adds ``persons.wish_gender`` ('' for no wish), ``persons.wish_required`` and
``volunteer_profiles.gender`` ('' for not declared). Additive: every person starts without a
structured wish (the free-text wish stays) and every volunteer without a declared gender.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('wish_gender', sa.String(length=5), server_default=sa.text("''"), nullable=False)
        )
        batch_op.add_column(
            sa.Column('wish_required', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f('ck_persons_wish_gender'), "wish_gender = '' OR wish_gender IN ('woman', 'man')"
        )
        batch_op.create_check_constraint(
            op.f('ck_persons_wish_required'), "wish_gender != '' OR NOT wish_required"
        )
    with op.batch_alter_table('volunteer_profiles', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('gender', sa.String(length=5), server_default=sa.text("''"), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f('ck_volunteer_profiles_gender'), "gender = '' OR gender IN ('woman', 'man')"
        )


def downgrade():
    with op.batch_alter_table('volunteer_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_volunteer_profiles_gender'), type_='check')
        batch_op.drop_column('gender')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_persons_wish_required'), type_='check')
        batch_op.drop_constraint(op.f('ck_persons_wish_gender'), type_='check')
        batch_op.drop_column('wish_required')
        batch_op.drop_column('wish_gender')
