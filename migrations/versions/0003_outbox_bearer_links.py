"""The outbox stores no bearer link: markers in the bodies, what they are for in ``links``

Password-reset and one-click visit links used to be stored in ``body_text``/``body_html``,
readable by staff on the outbox page. Messages now keep a marker and the link's kind and ids
(no token) in the new ``links`` column; delivery mints the URL. Existing rows lose their live
links: each is replaced by "[link skjult]" (a reset link lives an hour, a visit link 36 hours;
a pending one arrives without a working link, and its recipient can ask for a new one).

Additive for the previous version's code, which keeps working on the new schema.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:05:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The two routes whose links act without a login (auth.reset_password, centres.visit_link).
BEARER_URL = re.compile(r'(?:https?://[^\s"<>]*)?/(?:konto/nulstil|center/link)/[^\s"<>]+')
HIDDEN = '[link skjult]'


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links', sa.JSON(), nullable=True))

    conn = op.get_bind()
    outbox = sa.table(
        'outbox_messages',
        sa.column('id', sa.Integer),
        sa.column('body_text', sa.Text),
        sa.column('body_html', sa.Text),
    )
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.body_text, outbox.c.body_html).where(
            sa.or_(
                outbox.c.body_text.like('%/konto/nulstil/%'),
                outbox.c.body_text.like('%/center/link/%'),
                outbox.c.body_html.like('%/konto/nulstil/%'),
                outbox.c.body_html.like('%/center/link/%'),
            )
        )
    ).all()
    for row in rows:
        conn.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(
                body_text=BEARER_URL.sub(HIDDEN, row.body_text),
                body_html=BEARER_URL.sub(HIDDEN, row.body_html) if row.body_html else None,
            )
        )


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('links')
