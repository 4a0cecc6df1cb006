"""Subscriptions keep how they are paid (collection_method, days_until_due) as columns: the
account page shows it for every subscription and reads no raw Stripe JSON

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-03 12:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collection_method', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('days_until_due', sa.Integer(), nullable=True))
    # Rows cached before keep the answer in their Stripe JSON: copy it over, every tenant's
    # (row-level security lets this transaction see them all only when it says so).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT set_config('billfold.bypass', 'on', true)")
        op.execute(
            "UPDATE billing_subscriptions SET collection_method = data->>'collection_method', "
            "days_until_due = (data->>'days_until_due')::integer"
        )
    else:
        op.execute(
            "UPDATE billing_subscriptions SET "
            "collection_method = json_extract(data, '$.collection_method'), "
            "days_until_due = json_extract(data, '$.days_until_due')"
        )


def downgrade():
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('days_until_due')
        batch_op.drop_column('collection_method')
