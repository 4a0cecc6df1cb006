"""stripe_events.payload may be pruned: nullable, and an index of the payloads still kept

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=True)
        batch_op.create_index(
            'ix_stripe_events_payload_kept', ['received_at'], unique=False,
            postgresql_where=sa.text("payload IS NOT NULL AND status IN ('processed', 'ignored')"),
            sqlite_where=sa.text("payload IS NOT NULL AND status IN ('processed', 'ignored')"),
        )


def downgrade():
    op.execute("UPDATE stripe_events SET payload = '{}' WHERE payload IS NULL")
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index('ix_stripe_events_payload_kept')
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=False)
