"""Tracks remember their artist's id on the media server.

- ``score.artist_id``: the id the media server gives the track's artist (Subsonic ``artistId``, a Jellyfin
  or Emby artist item, a Lyrion contributor id, a Plex artist ``ratingKey``; a stable hash of the name for a
  music folder), so ``/api/similar_artists`` can take and answer the ids the plugins send. Rows written
  before this revision keep NULL until their album is analysed again; the artist routes fall back to names.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("score", sa.Column("artist_id", sa.String(255)))


def downgrade() -> None:
    op.drop_column("score", "artist_id")
