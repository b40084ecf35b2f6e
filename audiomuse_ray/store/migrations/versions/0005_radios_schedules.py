"""Anchors, radios and the schedule table (issue #18).

- ``anchor``: a saved alchemy recipe. Its songs and artists are kept as ids (added and subtracted), so it
  follows a re-analysis and an index rebuild; AudioMuse-AI's ``{name, centroid}`` form keeps the vector.
- ``radio``: an anchor with a size, a temperature and an on/off switch, plus what its last run wrote (the
  songs, to limit repeats, and the playlist id, to replace it in place). One per anchor, dropped with it.
- ``schedule``: AudioMuse-AI's cron rows (a job kind on a 5-field cron expression).
- ``schedule_run``: one row per (schedule, tick) that a scheduler claimed; its primary key is what keeps
  two schedulers, or a restarted one, from starting the same tick twice.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anchor",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("items", sa.Text, nullable=False),
        sa.Column("centroid", sa.LargeBinary),
        sa.Column("exclusions", sa.Text, nullable=False),
        sa.Column("subtract_distance", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_anchor_name", "anchor", ["name"], unique=True)
    op.create_table(
        "radio",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("anchor_id", sa.Integer, sa.ForeignKey("anchor.id", ondelete="CASCADE"), nullable=False),
        sa.Column("n_results", sa.Integer, nullable=False),
        sa.Column("temperature", sa.Float, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("max_repeat_share", sa.Float, nullable=False),
        sa.Column("skip_played_days", sa.Integer, nullable=False),
        sa.Column("last_item_ids", sa.Text),
        sa.Column("provider_playlist_id", sa.String(255)),
        sa.Column("last_run_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_radio_anchor", "radio", ["anchor_id"], unique=True)
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("task_type", sa.String(64), nullable=False),
        sa.Column("cron_expr", sa.String(128), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "schedule_run",
        sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedule.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tick", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("task_id", sa.String(64)),
        sa.Column("message", sa.Text),
    )


def downgrade() -> None:
    for name in ("schedule_run", "schedule", "radio", "anchor"):
        op.drop_table(name)
