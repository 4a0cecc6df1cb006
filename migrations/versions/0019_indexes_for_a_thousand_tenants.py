"""Indexes for a thousand tenants: the operators' figures read index ranges, not tables

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None

PROCESSED_ONLY = "processed_at IS NOT NULL"
KEPT = "deleted IS false"
RENEWING_KEPT = "deleted IS false AND status IN ('active', 'past_due', 'trialing')"


def upgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_stripe_events_tenant_id_received_at', ['tenant_id', 'received_at'], unique=False,
        )
        batch_op.create_index(
            'ix_stripe_events_tenant_processed', ['tenant_id', 'processed_at'], unique=False,
            postgresql_where=sa.text(PROCESSED_ONLY), sqlite_where=sa.text(PROCESSED_ONLY),
        )
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.create_index(
            'ix_billing_customers_tenant_kept', ['tenant_id'], unique=False,
            postgresql_where=sa.text(KEPT), sqlite_where=sa.text(KEPT),
        )
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_billing_subscriptions_renewing_period_end', ['current_period_end'], unique=False,
            postgresql_where=sa.text(RENEWING_KEPT), sqlite_where=sa.text(RENEWING_KEPT),
        )


def downgrade():
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_subscriptions_renewing_period_end')
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_customers_tenant_kept')
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index('ix_stripe_events_tenant_processed')
        batch_op.drop_index('ix_stripe_events_tenant_id_received_at')
