"""stripe_events.queued_at; billing_sync_states.reconciled_until as bigint

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('billing_sync_states', schema=None) as batch_op:
        batch_op.alter_column('reconciled_until',
               existing_type=sa.Integer(),
               type_=sa.BigInteger(),
               existing_nullable=True)


def downgrade():
    with op.batch_alter_table('billing_sync_states', schema=None) as batch_op:
        batch_op.alter_column('reconciled_until',
               existing_type=sa.BigInteger(),
               type_=sa.Integer(),
               existing_nullable=True)

    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_column('queued_at')
