"""tenant_logos: merchants' logos, re-encoded, in the database, under row-level security

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import enable_rls_statements


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tenant_logos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('media_type', sa.String(length=20), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('tenant_logos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_logos_content_hash'), ['content_hash'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_statements("tenant_logos"):
            op.execute(statement)


def downgrade():
    op.drop_table('tenant_logos')
