"""What the portal needs to show every billing state truthfully: how a price is billed (tiers,
usage, fractions of a cent), whether discounts or tax change a subscription's invoices, and
the subscription schedules planning a subscription's changes; the timezone a tenant's
customers read dates in

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import enable_rls_statements


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_prices') as batch_op:
        batch_op.add_column(sa.Column('billing_scheme', sa.String(length=20), nullable=False, server_default='per_unit'))
        batch_op.add_column(sa.Column('tiers_mode', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('usage_type', sa.String(length=20), nullable=False, server_default='licensed'))
        batch_op.add_column(sa.Column('unit_amount_decimal', sa.Numeric(), nullable=True))
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.add_column(sa.Column('has_discount', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('adds_tax', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('schedule_id', sa.String(length=255), nullable=True))
    with op.batch_alter_table('billing_customers') as batch_op:
        batch_op.add_column(sa.Column('has_discount', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    op.create_table('billing_subscription_schedules',
    sa.Column('subscription_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('end_behavior', sa.String(length=20), nullable=False),
    sa.Column('last_phase_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('phases', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stripe_id', sa.String(length=255), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('stripe_created', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_billing_subscription_schedules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_subscription_schedules')),
    sa.UniqueConstraint('tenant_id', 'stripe_id', name=op.f('uq_billing_subscription_schedules_tenant_id_stripe_id'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in enable_rls_statements('billing_subscription_schedules'):
            op.execute(statement)


def downgrade():
    op.drop_table('billing_subscription_schedules')
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.drop_column('timezone')
    with op.batch_alter_table('billing_customers') as batch_op:
        batch_op.drop_column('has_discount')
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.drop_column('schedule_id')
        batch_op.drop_column('adds_tax')
        batch_op.drop_column('has_discount')
    with op.batch_alter_table('billing_prices') as batch_op:
        batch_op.drop_column('unit_amount_decimal')
        batch_op.drop_column('usage_type')
        batch_op.drop_column('tiers_mode')
        batch_op.drop_column('billing_scheme')
