"""Signed tree heads over a Merkle tree of the audit log, and the tree's frontier on the head row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``audit_tree_heads`` and ``audit_head.frontier`` (rebuilt from the entries on demand)."""
    op.create_table('audit_tree_heads',
    sa.Column('size', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root', sa.String(length=80), nullable=False),
    sa.Column('timestamp', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.String(length=80), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('size')
    )
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frontier', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('frontier')
    op.drop_table('audit_tree_heads')
