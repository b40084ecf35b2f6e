"""Collection sync (issue #19): shared analyses keyed by recording, fingerprints.

- ``track_fingerprint``: the Chromaprint fingerprint of each analysed track (the first two minutes), its
  tag key (normalised artist and title, to find candidates), where its analysis came from and, once
  known, the hub's recording id. Tracks analysed before this revision have none until a sync or a new
  analysis makes one.
- ``shared_analysis``: a hub's analyses, one row per recording, keyed by the hub's own recording id and
  found by (model version, tag key); no local id, path or media-server id is stored.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "track_fingerprint",
        sa.Column("item_id", sa.String(255), primary_key=True),
        sa.Column("tag_key", sa.String(512)),
        sa.Column("duration", sa.Float),
        sa.Column("chromaprint", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("recording_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_track_fingerprint_tag_key", "track_fingerprint", ["tag_key"])
    op.create_table(
        "shared_analysis",
        sa.Column("recording_id", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("tag_key", sa.String(512), nullable=False),
        sa.Column("artist", sa.Text), sa.Column("title", sa.Text), sa.Column("album", sa.Text),
        sa.Column("duration", sa.Float),
        sa.Column("chromaprint", sa.Text, nullable=False),
        sa.Column("tempo", sa.Float), sa.Column("key", sa.String(8)), sa.Column("scale", sa.String(8)),
        sa.Column("energy", sa.Float), sa.Column("mood_vector", sa.Text), sa.Column("other_features", sa.Text),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("tags", sa.LargeBinary),
        sa.Column("contributor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_shared_analysis_version_key", "shared_analysis", ["model_version", "tag_key"])


def downgrade() -> None:
    op.drop_index("ix_shared_analysis_version_key", "shared_analysis")
    op.drop_table("shared_analysis")
    op.drop_index("ix_track_fingerprint_tag_key", "track_fingerprint")
    op.drop_table("track_fingerprint")
