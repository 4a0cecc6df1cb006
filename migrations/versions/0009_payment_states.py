"""What the portal shows of each state a customer can be in: a bank account's bank and a Link
method's email on payment methods; a subscription's paused collection

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.add_column(sa.Column('pause_behavior', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('pause_resumes_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('billing_payment_methods') as batch_op:
        batch_op.add_column(sa.Column('bank_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.drop_column('pause_resumes_at')
        batch_op.drop_column('pause_behavior')
    with op.batch_alter_table('billing_payment_methods') as batch_op:
        batch_op.drop_column('email')
        batch_op.drop_column('bank_name')
