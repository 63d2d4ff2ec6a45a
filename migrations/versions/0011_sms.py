"""SMS: each person's channel, SMS in the outbox with their delivery status, short links

``users.contact_channel`` (email, sms or both; everyone starts on email). Outbox rows get a
``channel`` (existing rows are emails), ``to_phone``, the gateway's ``provider_id`` and the
reported ``sms_status``; ``recipient_email`` may be empty for an SMS. ``short_links`` holds the
hashed codes of the ``/s/<code>`` links in SMS.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 02:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "contact_channel", sa.String(length=5), server_default="email", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_users_contact_channel"), "contact_channel IN ('email', 'sms', 'both')"
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=5), server_default="email", nullable=False)
        )
        batch_op.add_column(sa.Column("to_phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sms_status", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("recipient_email", existing_type=sa.String(length=254), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_messages_provider_id"), ["provider_id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_channel"), "channel IN ('email', 'sms')"
        )
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_sms_status"),
            "sms_status IS NULL OR sms_status IN ('pending', 'sent', 'delivered', 'failed')",
        )
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_address"),
            "(channel = 'email' AND recipient_email IS NOT NULL)"
            " OR (channel = 'sms' AND to_phone IS NOT NULL)",
        )

    op.create_table(
        "short_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_messages.id"],
            name=op.f("fk_short_links_message_id_outbox_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_links")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_short_links_code_hash")),
    )
    with op.batch_alter_table("short_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_short_links_message_id"), ["message_id"], unique=False)


def downgrade():
    with op.batch_alter_table("short_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_short_links_message_id"))
    op.drop_table("short_links")

    op.execute("DELETE FROM outbox_messages WHERE channel != 'email'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_address"), type_="check")
        batch_op.drop_constraint(op.f("ck_outbox_messages_sms_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_outbox_messages_channel"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_outbox_messages_provider_id"), type_="unique")
        batch_op.alter_column(
            "recipient_email", existing_type=sa.String(length=254), nullable=False
        )
        batch_op.drop_column("status_at")
        batch_op.drop_column("sms_status")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("to_phone")
        batch_op.drop_column("channel")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_contact_channel"), type_="check")
        batch_op.drop_column("contact_channel")
