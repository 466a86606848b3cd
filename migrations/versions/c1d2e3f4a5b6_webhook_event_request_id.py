"""webhook events remember the id of the request that caused them

Revision ID: c1d2e3f4a5b6
Revises: e5f6a7b8c9d0
Create Date: 2026-12-02 04:10:00.000000

The webhook worker logs each attempt under that id, so one request's lines can be followed from
the API into the deliveries it caused. Null for events made outside a request (the CLI, an
import) and for events written before this revision.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c1d2e3f4a5b6'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_events') as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('webhook_events') as batch_op:
        batch_op.drop_column('request_id')
