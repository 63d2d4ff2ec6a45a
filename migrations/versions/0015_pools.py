"""Local-area funds (puljer): a pool per local area and year, the grants the council gives
proposals from it, the residents' approval votes, and the tovholdere's close-outs

Adds ``pools``, ``pool_grants``, ``pool_votes`` and ``activity_reports``. Additive: the previous version's code reads
none of it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 03:15:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('local_area_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_ore', sa.Integer(), nullable=False),
    sa.Column('voting', sa.Boolean(), nullable=False),
    sa.Column('voting_closes_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_ore >= 0', name=op.f('ck_pools_amount_ore')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_pools_year')),
    sa.ForeignKeyConstraint(['local_area_id'], ['local_areas.id'], name=op.f('fk_pools_local_area_id_local_areas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pools')),
    sa.UniqueConstraint('local_area_id', 'year', name=op.f('uq_pools_local_area_id_year'))
    )
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pools_local_area_id'), ['local_area_id'], unique=False)

    op.create_table('pool_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('amount_ore', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_ore > 0', name=op.f('ck_pool_grants_amount_ore')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_pool_grants_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_pool_grants_pool_id_pools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_pool_grants_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_grants')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_pool_grants_proposal_id'))
    )
    with op.batch_alter_table('pool_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_grants_pool_id'), ['pool_id'], unique=False)

    op.create_table('pool_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_pool_votes_pool_id_pools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_pool_votes_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pool_votes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_votes')),
    sa.UniqueConstraint('pool_id', 'user_id', 'proposal_id', name=op.f('uq_pool_votes_pool_id_user_id_proposal_id'))
    )
    with op.batch_alter_table('pool_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_votes_pool_id'), ['pool_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_votes_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_votes_user_id'), ['user_id'], unique=False)


    op.create_table('activity_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('participants BETWEEN 0 AND 100000', name=op.f('ck_activity_reports_participants')),
    sa.CheckConstraint('sessions BETWEEN 0 AND 10000', name=op.f('ck_activity_reports_sessions')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_activity_reports_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_activity_reports_need_id_needs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_reports'))
    )
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_reports_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_reports_reported_on'), ['reported_on'], unique=False)


def downgrade():
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_reports_reported_on'))
        batch_op.drop_index(batch_op.f('ix_activity_reports_need_id'))

    op.drop_table('activity_reports')
    with op.batch_alter_table('pool_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pool_votes_user_id'))
        batch_op.drop_index(batch_op.f('ix_pool_votes_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_pool_votes_pool_id'))

    op.drop_table('pool_votes')
    with op.batch_alter_table('pool_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pool_grants_pool_id'))

    op.drop_table('pool_grants')
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pools_local_area_id'))

    op.drop_table('pools')
