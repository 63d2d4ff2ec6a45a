"""Fast needs pages: indexes for the list's activity filter and the "near a postcode" box

``needs (status, activity_type_id, next_starts_at)`` lets the list filtered by activity count
and page its open needs from the index; ``needs (status, lat, lon, next_starts_at)`` reads the
bounding box of "near a postcode" (and of a volunteer's suggestions) from the index, before the
exact great-circle distance decides. Additive: only indexes, no data changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_needs_status_activity_type_id_next_starts_at',
            ['status', 'activity_type_id', 'next_starts_at'],
            unique=False,
        )
        batch_op.create_index(
            'ix_needs_status_lat_lon', ['status', 'lat', 'lon', 'next_starts_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_status_lat_lon')
        batch_op.drop_index('ix_needs_status_activity_type_id_next_starts_at')
