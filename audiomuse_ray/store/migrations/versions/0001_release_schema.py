"""The schema of release 0.1.0 (what ``metadata.create_all`` wrote before migrations existed).

Revision ID: 0001
Revises: none
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audiomuse_meta", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table(
        "score",
        sa.Column("item_id", sa.String(255), primary_key=True),
        sa.Column("title", sa.Text), sa.Column("author", sa.Text), sa.Column("album", sa.Text),
        sa.Column("album_artist", sa.Text), sa.Column("tempo", sa.Float), sa.Column("key", sa.String(8)),
        sa.Column("scale", sa.String(8)), sa.Column("mood_vector", sa.Text), sa.Column("energy", sa.Float),
        sa.Column("other_features", sa.Text), sa.Column("duration", sa.Float), sa.Column("path_or_url", sa.Text),
        sa.Column("analysed_at", sa.DateTime(timezone=True)), sa.Column("model_version", sa.String(128)),
    )
    op.create_table(
        "embedding",
        sa.Column("item_id", sa.String(255), primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("tags", sa.LargeBinary),
    )
    op.create_table(
        "index_store",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("id_map", sa.Text, nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "map_projection",
        sa.Column("index_name", sa.String(64), primary_key=True),
        sa.Column("index_version", sa.Integer, primary_key=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "playlist",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("item_ids", sa.Text, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("provider_playlist_id", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "task_status",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("parent_id", sa.String(64)),
        sa.Column("task_type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_task_status_parent_id", "task_status", ["parent_id"])
    op.create_index("ix_task_status_type_created", "task_status", ["task_type", "created_at"])
    op.create_table(
        "analysis_error",
        sa.Column("item_id", sa.String(255), primary_key=True),
        sa.Column("path", sa.Text),
        sa.Column("error_class", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("model_version", sa.String(128)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("analysis_error", "task_status", "playlist", "map_projection", "index_store", "embedding",
                 "score", "audiomuse_meta"):
        op.drop_table(name)
