"""Job counts up to 10^12: ``epochs`` and ``batch_size`` of recommendations and predictions as BIGINT.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

The flags and the workload file take a dataset size, epoch count and batch size up to 10^12
(``advisor.workload.job.MAX_JOB_COUNT``); PostgreSQL's INTEGER holds 2^31 - 1, so saving a job of 5e9 epochs
failed with the driver's "integer out of range". SQLite's INTEGER already holds 64 bits, and retyping it there
would mean alembic's batch mode, which copies and drops the table: with foreign keys on, the drop cascades to the
candidates and outcomes (``advisor.history.tables.JOB_COUNT`` is INTEGER on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
# The dialects on which upgrade() changes nothing (advisor.history.migrate reads an older history it may not write
# on them without moving its version row; a test checks the claim against the schema before and after).
NO_OP_DIALECTS = ("sqlite",)

def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table in ("recommendations", "predictions"):
        for column in ("epochs", "batch_size"):
            op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=False)
