"""Trusted login: identities at OpenID providers, two-factor (TOTP) and per-role login policies

``oidc_links`` ties a provider's stable subject to an account (never a CPR number or any other
claim); ``recovery_codes`` holds the hashed one-time codes; ``login_policies`` says per staff role
whether a second factor is required and whether the password may be used; ``users.totp_secret``
holds the TOTP secret encrypted (a Fernet token, ``volunteer.auth.sealed``). Additive: no data
changes, every existing account logs in as before.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-04 02:05:13.484632

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table('login_policies',
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('require_two_factor', sa.Boolean(), nullable=False),
    sa.Column('password_login', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('volunteer', 'coordinator', 'centre', 'admin')", name=op.f('ck_login_policies_role')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_login_policies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('role', name=op.f('pk_login_policies'))
    )
    op.create_table('oidc_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('adult', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_oidc_links_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oidc_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_links')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_oidc_links_provider_subject')),
    sa.UniqueConstraint('provider', 'user_id', name=op.f('uq_oidc_links_provider_user_id'))
    )
    with op.batch_alter_table('oidc_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_links_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_confirmed_at')
        batch_op.drop_column('totp_secret')

    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))

    op.drop_table('recovery_codes')
    with op.batch_alter_table('oidc_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_links_user_id'))

    op.drop_table('oidc_links')
    op.drop_table('login_policies')
