"""Managed accounts: a coordinator keeps an account for someone without email until they claim it

``users.email`` may be NULL (an account made by a coordinator for someone who has no email;
the unique constraint still holds for every address given, as NULLs never collide on SQLite or
PostgreSQL). Adds ``users.managed_by_id`` (the coordinator who made it), ``users.claimed_at``
(when its owner took it over) and the claim letter's code: ``users.claim_code_hash`` (a keyed
hash, never the code) and ``users.claim_code_expires_at``. Existing accounts are unchanged:
none is managed. Down again, an account without email gets a placeholder address under
.invalid (which can receive nothing), so the column can be NOT NULL again.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-04 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.add_column(sa.Column('managed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claim_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('claim_code_expires_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f('ix_users_managed_by_id'), ['managed_by_id'], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f('uq_users_claim_code_hash'), ['claim_code_hash']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_users_managed_by_id_users'),
            'users',
            ['managed_by_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    op.execute(
        "UPDATE users SET email = 'managed-' || id || '@managed.invalid' WHERE email IS NULL"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_managed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_users_claim_code_hash'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_users_managed_by_id'))
        batch_op.drop_column('claim_code_expires_at')
        batch_op.drop_column('claim_code_hash')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('managed_by_id')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
