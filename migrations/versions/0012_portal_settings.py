"""portal settings from the dashboard: cancellation reasons offered, return URL, closing the portal

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('return_url', sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column('portal_closed', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('portal_closed_message', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('portal_closed_message')
        batch_op.drop_column('portal_closed')
        batch_op.drop_column('return_url')
        batch_op.drop_column('cancel_reasons')
