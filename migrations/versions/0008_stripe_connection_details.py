"""Stripe connection details: how a tenant connected, its key's lookup hash and last 4, the
webhook endpoint Billfold created, why it was disconnected; a Stripe App's tokens in their own
table (renewed on their own connection), under row-level security

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

POLICY = (
    "current_setting('billfold.bypass', true) = 'on' "
    "OR tenant_id = NULLIF(current_setting('billfold.tenant_id', true), '')::integer"
)


def upgrade():
    op.create_table('stripe_app_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=255), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_stripe_app_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_app_tokens')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_stripe_app_tokens_tenant_id'))
    )
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_api_key_lookup', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('stripe_api_key_last4', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('stripe_connection_method', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('stripe_created_webhook_endpoint', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('stripe_disconnected_reason', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('stripe_disconnected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tenants_stripe_api_key_lookup'), ['stripe_api_key_lookup'])
        # Never used: a Stripe App's tokens are in stripe_app_tokens; Connect needs none.
        batch_op.drop_column('stripe_access_token')
        batch_op.drop_column('stripe_refresh_token')
    if op.get_bind().dialect.name == 'postgresql':  # as every tenant-owned table (0005)
        op.execute('ALTER TABLE "stripe_app_tokens" ENABLE ROW LEVEL SECURITY')
        op.execute('ALTER TABLE "stripe_app_tokens" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_isolation ON "stripe_app_tokens" USING ({POLICY}) '
            f'WITH CHECK ({POLICY})'
        )
    # Tenants connected before this revision: an account id means Connect, a key an API key.
    op.execute(
        "UPDATE tenants SET stripe_connection_method = 'api_key' WHERE stripe_api_key IS NOT NULL"
    )
    op.execute(
        "UPDATE tenants SET stripe_connection_method = 'connect' "
        "WHERE stripe_api_key IS NULL AND stripe_account_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_refresh_token', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stripe_access_token', sa.Text(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_tenants_stripe_api_key_lookup'), type_='unique')
        batch_op.drop_column('stripe_disconnected_at')
        batch_op.drop_column('stripe_disconnected_reason')
        batch_op.drop_column('stripe_created_webhook_endpoint')
        batch_op.drop_column('stripe_connection_method')
        batch_op.drop_column('stripe_api_key_last4')
        batch_op.drop_column('stripe_api_key_lookup')
    op.drop_table('stripe_app_tokens')
