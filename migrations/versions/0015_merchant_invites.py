"""merchant_invites: an owner's invitations to join the team (platform-level, like merchant_users)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 09:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('merchant_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_merchant_invites_email_lower_case')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['merchant_users.id'], name=op.f('fk_merchant_invites_invited_by_id_merchant_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_merchant_invites_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_invites')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_merchant_invites_token_hash')),
    )
    with op.batch_alter_table('merchant_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_invites_tenant_id_email'), ['tenant_id', 'email'], unique=False)


def downgrade():
    op.drop_table('merchant_invites')
