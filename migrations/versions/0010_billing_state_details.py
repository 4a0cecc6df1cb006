"""What the portal needs to show every billing state truthfully: how a price is billed (tiers,
usage, fractions of a cent) and whether discounts or tax change a subscription's invoices

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
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
    with op.batch_alter_table('billing_customers') as batch_op:
        batch_op.add_column(sa.Column('has_discount', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('billing_customers') as batch_op:
        batch_op.drop_column('has_discount')
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.drop_column('adds_tax')
        batch_op.drop_column('has_discount')
    with op.batch_alter_table('billing_prices') as batch_op:
        batch_op.drop_column('unit_amount_decimal')
        batch_op.drop_column('usage_type')
        batch_op.drop_column('tiers_mode')
        batch_op.drop_column('billing_scheme')
