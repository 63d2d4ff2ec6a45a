"""Proposals (forslag): citizens' initiatives with co-authors, edit history, "Jeg er med",
followers, comments and reports, and the events the followers' digest tells

Adds ``proposals``, ``proposal_revisions``, ``proposal_authors``, ``proposal_supports``,
``proposal_follows``, ``proposal_comments``, ``comment_reports``, ``proposal_events``, and for
adoption ``proposal_needs`` (the needs a proposal became) and ``activity_leads`` (tovholdere).
Additive: the previous version's code reads none of it.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-04 02:16:34.629444

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('for_whom', sa.Text(), nullable=False),
    sa.Column('local_area_id', sa.Integer(), nullable=True),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('town', sa.String(length=80), nullable=False),
    sa.Column('schedule', sa.String(length=10), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('first_date', sa.Date(), nullable=True),
    sa.Column('helpers_wanted', sa.Integer(), nullable=False),
    sa.Column('helper_roles', sa.Text(), nullable=False),
    sa.Column('ask_room', sa.Boolean(), nullable=False),
    sa.Column('ask_materials', sa.Text(), nullable=False),
    sa.Column('amount_ore', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer_deadline', sa.Date(), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("schedule IN ('weekly', 'once')", name=op.f('ck_proposals_schedule')),
    sa.CheckConstraint("state != 'declined' OR (answer_text IS NOT NULL AND answer_text != '')", name=op.f('ck_proposals_declined_reason')),
    sa.CheckConstraint("state IN ('draft', 'received', 'under_review', 'adopted', 'declined', 'completed')", name=op.f('ck_proposals_state')),
    sa.CheckConstraint('amount_ore >= 0', name=op.f('ck_proposals_amount_ore')),
    sa.CheckConstraint('helpers_wanted BETWEEN 0 AND 500', name=op.f('ck_proposals_helpers_wanted')),
    sa.CheckConstraint('weekday IS NULL OR weekday BETWEEN 0 AND 6', name=op.f('ck_proposals_weekday')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_proposals_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_proposals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['local_area_id'], ['local_areas.id'], name=op.f('fk_proposals_local_area_id_local_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_proposals_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_answer_deadline'), ['answer_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_local_area_id'), ['local_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_state'), ['state'], unique=False)

    op.create_table('proposal_authors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('invited', 'accepted', 'declined')", name=op.f('ck_proposal_authors_state')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_proposal_authors_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_authors_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_proposal_authors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_authors')),
    sa.UniqueConstraint('proposal_id', 'email', name=op.f('uq_proposal_authors_proposal_id_email'))
    )
    with op.batch_alter_table('proposal_authors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_authors_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_authors_user_id'), ['user_id'], unique=False)

    op.create_table('proposal_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_proposal_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_proposal_comments_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_comments_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_comments'))
    )
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_comments_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_comments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('state', 'comment', 'edit')", name=op.f('ck_proposal_events_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_proposal_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_events_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_events'))
    )
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_events_digested_at'), ['digested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_events_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_follows',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_follows_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_proposal_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'user_id', name=op.f('pk_proposal_follows'))
    )
    with op.batch_alter_table('proposal_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_follows_user_id'), ['user_id'], unique=False)

    op.create_table('proposal_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_proposal_revisions_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_revisions_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_revisions'))
    )
    with op.batch_alter_table('proposal_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_revisions_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('helper', 'participant')", name=op.f('ck_proposal_supports_kind')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_supports_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_proposal_supports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_supports')),
    sa.UniqueConstraint('proposal_id', 'user_id', name=op.f('uq_proposal_supports_proposal_id_user_id'))
    )
    with op.batch_alter_table('proposal_supports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_supports_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_supports_user_id'), ['user_id'], unique=False)

    op.create_table('comment_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['proposal_comments.id'], name=op.f('fk_comment_reports_comment_id_proposal_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_comment_reports_reporter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_reports')),
    sa.UniqueConstraint('comment_id', 'reporter_id', name=op.f('uq_comment_reports_comment_id_reporter_id'))
    )
    with op.batch_alter_table('comment_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_reports_comment_id'), ['comment_id'], unique=False)

    op.create_table('activity_leads',
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_activity_leads_need_id_needs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_leads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('need_id', 'user_id', name=op.f('pk_activity_leads'))
    )
    with op.batch_alter_table('activity_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_leads_user_id'), ['user_id'], unique=False)

    op.create_table('proposal_needs',
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_proposal_needs_need_id_needs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_needs_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('need_id', name=op.f('pk_proposal_needs'))
    )
    with op.batch_alter_table('proposal_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_needs_proposal_id'), ['proposal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('proposal_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_needs_proposal_id'))

    op.drop_table('proposal_needs')
    with op.batch_alter_table('activity_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_leads_user_id'))

    op.drop_table('activity_leads')
    with op.batch_alter_table('comment_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_reports_comment_id'))

    op.drop_table('comment_reports')
    with op.batch_alter_table('proposal_supports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_supports_user_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_supports_proposal_id'))

    op.drop_table('proposal_supports')
    with op.batch_alter_table('proposal_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_revisions_proposal_id'))

    op.drop_table('proposal_revisions')
    with op.batch_alter_table('proposal_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_follows_user_id'))

    op.drop_table('proposal_follows')
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_events_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_events_digested_at'))

    op.drop_table('proposal_events')
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_comments_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_comments_author_id'))

    op.drop_table('proposal_comments')
    with op.batch_alter_table('proposal_authors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_authors_user_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_authors_proposal_id'))

    op.drop_table('proposal_authors')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_state'))
        batch_op.drop_index(batch_op.f('ix_proposals_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_local_area_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_answer_deadline'))

    op.drop_table('proposals')
