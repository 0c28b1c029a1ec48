"""Names of any length on PostgreSQL: the columns holding a name a user, profile or pricing file gives as TEXT.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

A workload, host, device, GPU, provider, instance type or region name was VARCHAR(50-255). SQLite never enforced
those lengths, so a 300-character host name in a profile, or a 150-character instance type in a pricing file, was
stored there while PostgreSQL refused the whole statement ("value too long for type character varying(255)"): a
traceback from the CLI, and from the service a 503 that no retry could clear. VARCHAR(n) to TEXT is a catalog
change on PostgreSQL, with no table rewrite. SQLite keeps its declared types (``advisor.history.tables.named``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
# The dialects on which upgrade() changes nothing (advisor.history.migrate reads an older history it may not write
# on them without moving its version row; a test checks the claim against the schema before and after).
NO_OP_DIALECTS = ("sqlite",)

# (table, column, the VARCHAR length it had)
NAMES = (
    ("workloads", "name", 200), ("workloads", "optimizer", 100),
    ("profiles", "hostname", 255),
    ("measurements", "device", 50), ("measurements", "device_name", 200), ("measurements", "spec_name", 100),
    ("predictions", "gpu", 100),
    ("recommendations", "chosen_provider", 50), ("recommendations", "chosen_instance_type", 100),
    ("recommendations", "chosen_region", 50), ("recommendations", "chosen_gpu", 100),
    ("candidates", "provider", 50), ("candidates", "instance_type", 100), ("candidates", "region", 50),
    ("candidates", "gpu", 100),
    ("outcomes", "instance_type", 100), ("outcomes", "provider", 50), ("outcomes", "region", 50),
    ("outcomes", "gpu", 100),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, length in NAMES:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    # A name longer than the old limit makes this fail, and the transaction leaves the schema at 0003.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, length in NAMES:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
