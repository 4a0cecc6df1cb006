"""portal_activity: what customers did in the portal, for the merchant, under row-level security

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import enable_rls_statements


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portal_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('object_id', sa.String(length=255), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('source', sa.String(length=40), nullable=True),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('comment', sa.String(length=500), nullable=True),
        sa.Column('detail', sa.String(length=120), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('portal_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_activity_tenant_id_occurred_at'), ['tenant_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_activity_tenant_id_email'), ['tenant_id', 'email'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_statements("portal_activity"):
            op.execute(statement)


def downgrade():
    op.drop_table('portal_activity')
