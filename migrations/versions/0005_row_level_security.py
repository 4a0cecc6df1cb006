"""Row-level security on every tenant-owned table (PostgreSQL only)

A row is visible and writable only to a transaction whose billfold.tenant_id setting names its
tenant, or that says billfold.bypass = on (operators, sweeps over all tenants). FORCEd, so the
tables' owner is bound too; only superusers and BYPASSRLS roles escape it. See tenants/rls.py.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = [
    'billing_customers', 'billing_invoices', 'billing_payment_methods', 'billing_prices',
    'billing_products', 'billing_subscription_items', 'billing_subscriptions',
    'billing_sync_states', 'billing_upcoming_invoices', 'email_deliveries', 'login_tokens',
    'portal_users', 'stripe_events',
]
PREDICATE = (
    "current_setting('billfold.bypass', true) = 'on' "
    "OR tenant_id = NULLIF(current_setting('billfold.tenant_id', true), '')::integer"
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_isolation ON "{table}" USING ({PREDICATE}) WITH CHECK ({PREDICATE})'
        )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
