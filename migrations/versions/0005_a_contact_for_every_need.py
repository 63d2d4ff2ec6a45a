"""A contact for every need: ``needs.contact_id``, the coordinator volunteers ask

The need's page and every email about it name a contact person (name, phone, email). Existing
needs get the coordinator who created them, when that user is still an active coordinator of the
need's organisation; otherwise the organisation's first active coordinator; otherwise none (the
page then falls back to the organisation's coordinators, and shows no contact if it has none).

On SQLite the batch copies ``needs`` and drops the old table; migrations/env.py turns foreign
keys off while migrating, so that drop does not cascade to the assignments and occurrences.

Additive and nullable: the previous version's code leaves the column out and its needs simply
have no contact until one is chosen.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# An active, not deleted coordinator who belongs to the need's organisation.
_COORDINATOR_OF_THE_NEED = """
    SELECT u.id FROM users u
    JOIN organisation_members m ON m.user_id = u.id
    WHERE m.organisation_id = needs.organisation_id
      AND u.role = 'coordinator' AND u.active AND u.deleted_at IS NULL
"""


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_needs_contact_id'), ['contact_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_needs_contact_id_users'),
            'users',
            ['contact_id'],
            ['id'],
            ondelete='SET NULL',
        )

    op.execute(
        "UPDATE needs SET contact_id = COALESCE("
        f"({_COORDINATOR_OF_THE_NEED} AND u.id = needs.created_by_id), "
        f"({_COORDINATOR_OF_THE_NEED} ORDER BY u.id LIMIT 1))"
    )


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_needs_contact_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_needs_contact_id'))
        batch_op.drop_column('contact_id')
