"""Initial schema: every table of the history database.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

The tables are those of advisor/history/tables.py; timestamps are UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("param_count", sa.BigInteger(), nullable=True),
        sa.Column("flops_per_sample", sa.Float(), nullable=True),
        sa.Column("optimizer", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workloads")),
        sa.UniqueConstraint("name", "file_sha256", name=op.f("uq_workloads_name_file_sha256")),
    )
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workload_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("probe_wall_seconds", sa.Float(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["workload_id"], ["workloads.id"], name=op.f("fk_profiles_workload_id_workloads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
    )
    op.create_index(op.f("ix_profiles_workload_id"), "profiles", ["workload_id"], unique=False)

    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=50), nullable=False),
        sa.Column("device_kind", sa.String(length=10), nullable=False),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("spec_name", sa.String(length=100), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=True),
        sa.Column("precision", sa.String(length=10), nullable=False),
        sa.Column("compute_seconds", sa.Float(), nullable=True),
        sa.Column("batch_seconds", sa.Float(), nullable=True),
        sa.Column("spread", sa.Float(), nullable=True),
        sa.Column("peak_memory_gib", sa.Float(), nullable=True),
        sa.Column("gpu_utilization_pct", sa.Float(), nullable=True),
        sa.Column("power_watts", sa.Float(), nullable=True),
        sa.Column("oom", sa.Boolean(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_measurements_profile_id_profiles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
    )
    op.create_index(op.f("ix_measurements_profile_id"), "measurements", ["profile_id"], unique=False)

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workload_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("gpu", sa.String(length=100), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=True),
        sa.Column("dataset_size", sa.BigInteger(), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("precision", sa.String(length=10), nullable=False),
        sa.Column("fits_memory", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_predictions_profile_id_profiles"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["workload_id"], ["workloads.id"], name=op.f("fk_predictions_workload_id_workloads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
    )
    op.create_index(op.f("ix_predictions_created_at"), "predictions", ["created_at"], unique=False)
    op.create_index(op.f("ix_predictions_workload_id"), "predictions", ["workload_id"], unique=False)

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workload_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dataset_size", sa.BigInteger(), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("objective", sa.String(length=10), nullable=False),
        sa.Column("deadline_seconds", sa.Float(), nullable=True),
        sa.Column("budget_usd", sa.Float(), nullable=True),
        sa.Column("n_candidates", sa.Integer(), nullable=False),
        sa.Column("chosen_provider", sa.String(length=50), nullable=True),
        sa.Column("chosen_instance_type", sa.String(length=100), nullable=True),
        sa.Column("chosen_region", sa.String(length=50), nullable=True),
        sa.Column("chosen_tier", sa.String(length=20), nullable=True),
        sa.Column("chosen_gpu", sa.String(length=100), nullable=True),
        sa.Column("chosen_gpu_count", sa.Integer(), nullable=True),
        sa.Column("chosen_vcpus", sa.Integer(), nullable=True),
        sa.Column("chosen_method", sa.String(length=20), nullable=True),
        sa.Column("chosen_seconds", sa.Float(), nullable=True),
        sa.Column("chosen_low", sa.Float(), nullable=True),
        sa.Column("chosen_high", sa.Float(), nullable=True),
        sa.Column("chosen_cost_usd", sa.Float(), nullable=True),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("pricing_snapshot", sa.JSON(), nullable=False),
        sa.Column("workload_info", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_recommendations_profile_id_profiles"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workload_id"], ["workloads.id"], name=op.f("fk_recommendations_workload_id_workloads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
    )
    op.create_index(op.f("ix_recommendations_created_at"), "recommendations", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_recommendations_workload_id_created_at"),
        "recommendations",
        ["workload_id", "created_at"],
        unique=False,
    )

    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("instance_type", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=50), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("gpu", sa.String(length=100), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("spot_cost_usd", sa.Float(), nullable=True),
        sa.Column("fits_memory", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("base_seconds", sa.Float(), nullable=True),
        sa.Column("base_method", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("price_usd_per_hour", sa.Float(), nullable=False),
        sa.Column("spot_price_usd_per_hour", sa.Float(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_candidates_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
    )
    op.create_index(
        op.f("ix_candidates_recommendation_id_chosen"), "candidates", ["recommendation_id", "chosen"], unique=False
    )

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("workload_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("actual_seconds", sa.Float(), nullable=False),
        sa.Column("instance_type", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=50), nullable=True),
        sa.Column("region", sa.String(length=50), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("gpu", sa.String(length=100), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=True),
        sa.Column("vcpus", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("predicted_seconds", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("base_seconds", sa.Float(), nullable=True),
        sa.Column("base_method", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name=op.f("fk_outcomes_candidate_id_candidates"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_outcomes_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["workload_id"], ["workloads.id"], name=op.f("fk_outcomes_workload_id_workloads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    op.create_index(op.f("ix_outcomes_recommendation_id"), "outcomes", ["recommendation_id"], unique=False)
    op.create_index(op.f("ix_outcomes_recorded_at"), "outcomes", ["recorded_at"], unique=False)
    op.create_index(op.f("ix_outcomes_workload_id"), "outcomes", ["workload_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outcomes_workload_id"), table_name="outcomes")
    op.drop_index(op.f("ix_outcomes_recorded_at"), table_name="outcomes")
    op.drop_index(op.f("ix_outcomes_recommendation_id"), table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index(op.f("ix_candidates_recommendation_id_chosen"), table_name="candidates")
    op.drop_table("candidates")
    op.drop_index(op.f("ix_recommendations_workload_id_created_at"), table_name="recommendations")
    op.drop_index(op.f("ix_recommendations_created_at"), table_name="recommendations")
    op.drop_table("recommendations")
    op.drop_index(op.f("ix_predictions_workload_id"), table_name="predictions")
    op.drop_index(op.f("ix_predictions_created_at"), table_name="predictions")
    op.drop_table("predictions")
    op.drop_index(op.f("ix_measurements_profile_id"), table_name="measurements")
    op.drop_table("measurements")
    op.drop_index(op.f("ix_profiles_workload_id"), table_name="profiles")
    op.drop_table("profiles")
    op.drop_table("workloads")
