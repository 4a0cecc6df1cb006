"""billing_customers.invoice_history_read_at: a backfill copies only the invoices still to pay;
a customer's whole history is read once, when the customer first asks to sign in

Customers of tenants whose backfill finished before this change were copied with every invoice
(the old backfill listed them all): their history is marked as read, so they cost no read and
their invoices page shows no "still being loaded" notice.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

MARK_COPIED_HISTORIES = (
    "UPDATE billing_customers SET invoice_history_read_at = CURRENT_TIMESTAMP "
    "WHERE tenant_id IN (SELECT tenant_id FROM billing_sync_states WHERE backfill_status = 'done')"
)


def upgrade():
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('invoice_history_read_at', sa.DateTime(timezone=True), nullable=True)
        )
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        # Every tenant's rows (row-level security; see 0005), for this statement only.
        op.execute("SET LOCAL billfold.bypass = 'on'")
    op.execute(MARK_COPIED_HISTORIES)
    if postgresql:
        op.execute("SET LOCAL billfold.bypass = 'off'")


def downgrade():
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.drop_column('invoice_history_read_at')
